"""`comma-bench world pretrain|eval|probe|export|show`: the built-in world from the command line.

- `pretrain` reruns the recipe that produced the shipped `world-tiny` weights (or a variant of it).
- `eval` measures zero-shot accuracy of a world-tiny weights file (default: the shipped one) on every built-in set.
- `probe` puts a few-shot linear probe on the frozen image features beside zero-shot: the room prompt learning has.
- `export` writes a built-in dataset as PNG files with a split_zhou JSON, the layout of a real CoOp dataset.
- `show` saves a grid of sample images, to look at what a dataset contains.

Nothing heavy is imported at module level: the CLI imports this module just to build its parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "world", help="the built-in procedural world: pretrain, evaluate, probe, export or look at it",
        description=__doc__.split("\n\n")[0],
    )  # fmt: skip
    sub = parser.add_subparsers(dest="world_command", metavar="ACTION", required=True)

    p = sub.add_parser("pretrain", help="pretrain world-tiny contrastively on the procedural corpus")
    p.add_argument("--out", required=True, metavar="FILE", help="weights file to write (.safetensors; a .json beside)")
    p.add_argument(
        "--vision-steps", type=int, default=None, metavar="N",
        help="stage 1 (image-tower warm-up) steps; 0 skips it (default: the recipe's)",
    )  # fmt: skip
    p.add_argument("--steps", type=int, default=None, metavar="N", help="stage 2 (contrastive) steps (default: recipe)")
    p.add_argument(
        "--image-tower", default=None, metavar="WEIGHTS",
        help="'builtin' or a world-tiny .safetensors: start from its image tower, run stage 2 only (--vision-steps 0)",
    )  # fmt: skip
    p.add_argument(
        "--fine-name-rate", type=float, default=None, metavar="P",
        help="how often stage-2 captions use a long-tail word (teal, hexagon) over a common one (default: recipe)",
    )  # fmt: skip
    p.add_argument(
        "--pattern-mention-rate", type=float, default=None, metavar="P",
        help="how often stage-2 captions of a patterned object name its fill pattern (default: recipe)",
    )  # fmt: skip
    p.add_argument(
        "--grow-from", default=None, metavar="WEIGHTS",
        help="a 4-layer world-tiny v1 .safetensors: stage 1 starts from its image tower grown to 12 layers",
    )  # fmt: skip
    p.add_argument("--vision-lr", type=float, default=None, metavar="LR", help="stage 1 peak learning rate")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed of init and corpus (default: 0)")
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help="pairs per step (default: 128)")
    p.add_argument("--threads", type=int, default=None, metavar="T", help="torch threads (default: 2)")
    p.add_argument(
        "--eval-per-class", type=int, default=None, metavar="K",
        help="measure zero-shot on the first K test images per class only (default: all)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_pretrain)

    p = sub.add_parser("eval", help="zero-shot accuracy of world-tiny weights on every built-in dataset")
    p.add_argument("--weights", default=None, metavar="FILE", help="weights file (default: the shipped weights)")
    p.add_argument("--per-class", type=int, default=None, metavar="K", help="first K test images per class only")
    p.set_defaults(func=_eval)

    p = sub.add_parser("probe", help="few-shot linear probe on frozen world-tiny features vs zero-shot, per dataset")
    p.add_argument("--weights", default=None, metavar="FILE", help="weights file (default: the shipped weights)")
    p.add_argument("--shots", type=int, default=16, metavar="K", help="train images per class (default 16)")
    p.add_argument("--subset", default="base", choices=("base", "new", "all"), help="classes (default base)")
    p.add_argument(
        "--datasets", default=None, metavar="KEYS",
        help="comma-separated keys (default: every built-in dataset with a train split)",
    )  # fmt: skip
    p.set_defaults(func=_probe)

    p = sub.add_parser("export", help="write a built-in dataset as PNG files + split_zhou JSON (CoOp layout)")
    p.add_argument("--dataset", required=True, metavar="KEY", help="built-in dataset key, e.g. world/shapes")
    p.add_argument("--to", required=True, metavar="DIR", help="dataset directory to write")
    p.add_argument("--max-per-class", type=int, default=None, metavar="K", help="first K images per class and split")
    p.set_defaults(func=_export)

    p = sub.add_parser("show", help="save a grid of sample images of a built-in dataset as PNG")
    p.add_argument("--dataset", required=True, metavar="KEY", help="built-in dataset key, e.g. world/patterns")
    p.add_argument("--out", required=True, metavar="PNG", help="image file to write")
    p.add_argument("--split", default="test", choices=("train", "val", "test"), help="split to sample (default test)")
    p.add_argument("--per-class", type=int, default=4, metavar="K", help="images per class, one row per class")
    p.add_argument("--scale", type=int, default=3, metavar="S", help="pixel magnification (default 3)")
    p.set_defaults(func=_show)


def _positive(name: str, value: int | None) -> None:
    from comma_bench.errors import UserError

    if value is not None and value < 1:
        raise UserError(f"{name}: expected a positive integer, got {value}")


def _pretrain(args: argparse.Namespace) -> int:
    import dataclasses

    from comma_bench.errors import UserError
    from comma_bench.world.corpus import GROUP_SIZE
    from comma_bench.world.pretrain import PretrainRecipe, pretrain

    for name in ("batch_size", "threads", "eval_per_class"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    for name in ("vision_steps", "steps"):
        if getattr(args, name) is not None and getattr(args, name) < 0:
            raise UserError(f"--{name.replace('_', '-')}: expected 0 or a positive integer, got {getattr(args, name)}")
    if args.batch_size is not None and args.batch_size % GROUP_SIZE:
        raise UserError(
            f"--batch-size: expected a multiple of {GROUP_SIZE} (whole hard-negative groups), got {args.batch_size}"
        )
    for name in ("fine_name_rate", "pattern_mention_rate"):
        value = getattr(args, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise UserError(f"--{name.replace('_', '-')}: expected a probability between 0 and 1, got {value}")
    out = Path(args.out).expanduser()
    if out.suffix != ".safetensors":
        raise UserError(f"--out {str(out)!r}: expected a .safetensors file name")
    if args.image_tower is not None:
        if args.vision_steps:
            raise UserError(
                f"--vision-steps {args.vision_steps}: with --image-tower stage 1 is skipped; drop it or pass 0"
            )
        args.vision_steps = 0
    keys = (
        "vision_steps", "steps", "seed", "batch_size", "threads", "image_tower", "fine_name_rate",
        "pattern_mention_rate", "grow_from", "vision_lr",
    )  # fmt: skip
    recipe = dataclasses.replace(
        PretrainRecipe(), **{k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    )
    if recipe.vision_steps + recipe.steps == 0:
        raise UserError("--vision-steps 0 and --steps 0: nothing to train (stage 1, stage 2 or both need steps)")
    shortest = min(n for n in (recipe.vision_steps, recipe.steps) if n > 0)
    if recipe.warmup_steps > shortest // 2:  # short (test) runs: keep warm-up a tenth of the shortest stage
        recipe = dataclasses.replace(recipe, warmup_steps=max(1, shortest // 10))
    meta = pretrain(out, recipe, progress=not args.no_progress, eval_per_class=args.eval_per_class)
    print(f"wrote {out} ({meta['bytes'] / 1e6:.1f} MB, sha256 {meta['sha256'][:12]}) in {meta['wall_time_s']:.0f}s")
    print(f"wrote {out.with_suffix('.json')}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import time

    from comma_bench.clip.backbone import load_backbone
    from comma_bench.world.model import NAME
    from comma_bench.world.pretrain import measure_zeroshot

    _positive("--per-class", args.per_class)
    t0 = time.time()
    backbone = load_backbone(NAME, args.weights or "builtin")
    print(f"zero-shot top-1 (%) of {NAME} ({backbone.pretrained}), test split:")
    measure_zeroshot(backbone.model, per_class=args.per_class, progress=True)
    print(f"loaded and evaluated in {time.time() - t0:.1f}s")
    return 0


def _probe(args: argparse.Namespace) -> int:
    from comma_bench.clip.backbone import load_backbone
    from comma_bench.errors import UserError
    from comma_bench.world.datasets import WORLD_DATASETS, get_world_dataset
    from comma_bench.world.evaluate import linear_probe
    from comma_bench.world.model import NAME

    _positive("--shots", args.shots)
    if args.datasets is None:
        datasets = [ds for ds in WORLD_DATASETS.values() if ds.has_val]
    else:
        datasets = [get_world_dataset(key.strip()) for key in args.datasets.split(",") if key.strip()]
    for ds in datasets:
        if not ds.has_val:
            raise UserError(f"--datasets: {ds.key} is a test-only (DG target) dataset with no train split to probe")
    backbone = load_backbone(NAME, args.weights or "builtin")
    print(f"{args.subset} classes, {args.shots} shots per class, {NAME} ({backbone.pretrained}); top-1 % on test:")
    print(f"  {'dataset':16s} {'zero-shot':>9s} {'probe':>7s} {'gain':>6s}")
    for ds in datasets:
        r = linear_probe(backbone.model, backbone.tokenizer, ds, shots=args.shots, subset=args.subset)
        print(f"  {ds.key:16s} {r.zero_shot:9.1f} {r.probe:7.1f} {r.probe - r.zero_shot:+6.1f}", flush=True)
    return 0


def _export(args: argparse.Namespace) -> int:
    from comma_bench.world.export import export_dataset

    path = export_dataset(args.dataset, args.to, max_per_class=args.max_per_class)
    print(f"wrote {path}")
    name = args.dataset.removeprefix("world/")
    print(f"read it as files: comma-bench eval --dataset world-files/{name} --data-root {path.parent}")
    return 0


def _show(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from comma_bench.world.datasets import get_world_dataset, items, render_item

    _positive("--per-class", args.per_class)
    _positive("--scale", args.scale)
    ds = get_world_dataset(args.dataset)
    n = len(ds.classnames)
    test = items(ds, args.split)[: n * args.per_class]
    tile = 34
    grid = np.full((n * tile, args.per_class * tile, 3), 255, dtype=np.uint8)
    for i, d in enumerate(test):
        row, col = d.label, i // n
        grid[row * tile + 1 : row * tile + 33, col * tile + 1 : col * tile + 33] = render_item(d.impath)
    img = Image.fromarray(grid).resize((grid.shape[1] * args.scale, grid.shape[0] * args.scale), Image.NEAREST)
    out = Path(args.out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)
    print(f"wrote {out}: {n} classes (rows, label order) x {args.per_class} images")
    return 0
