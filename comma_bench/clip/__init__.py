"""The prompted-CLIP core: backbone loading, prompt assembly and the prompted text/image forward.

No method logic lives here; methods (comma_bench.methods, baselines) build on these pieces.
"""

from comma_bench.clip.backbone import Backbone, load_backbone
from comma_bench.clip.prompted import TextOutput, cosine_logits, encode_image, encode_text, token_embeddings
from comma_bench.clip.zoo import ModelSpec, list_builtin_models, register_model

__all__ = [
    "Backbone",
    "ModelSpec",
    "TextOutput",
    "cosine_logits",
    "encode_image",
    "encode_text",
    "list_builtin_models",
    "load_backbone",
    "register_model",
    "token_embeddings",
]
