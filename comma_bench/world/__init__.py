"""The built-in world: a procedural image-caption universe and `world-tiny`, a tiny CLIP pretrained on it.

It lets the whole benchmark (zero-shot transfer, base-to-novel prompt learning, cross-dataset and domain
generalisation) run for real on a laptop CPU with nothing to download. Modules, from pixels up:

- `concepts`: colour, shape, fill-pattern, size and position vocabularies (the words captions and class names share).
- `render`: a `Scene` description to a 32x32 RGB image with numpy.
- `scenes`, `captions`, `corpus`: random scenes, varied captions, and the seeded pretraining stream.
- `datasets`: the built-in downstream datasets (`world/*` keys in the dataset registry).
- `model`, `pretrain`, `evaluate`: the `world-tiny` backbone, its pretraining recipe, zero-shot measurement.
- `export`, `commands`: CoOp-layout export and the `comma-bench world ...` subcommands.

Importing this package imports nothing heavy; the registries import `datasets` and `model` when they need them.
"""
