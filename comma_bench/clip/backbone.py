"""Load a frozen CLIP backbone: any open_clip model by name, a local weights file, or a built-in architecture.

Why a wrapper around `open_clip.create_model`:
- **QuickGELU.** OpenAI's weights were trained with QuickGELU, but open_clip 3.x only *warns* when `ViT-B-16` is
  combined with `pretrained='openai'` and silently runs GELU (open_clip#771). We select QuickGELU from the tag's own
  metadata and refuse an explicit mismatch.
- **Offline use.** When weights are not cached, open_clip fails deep inside a download; we raise one line that names
  the tag, where it looked, and how to pass a file instead.
- **Unsafe archives.** OpenAI's TorchScript `.pt` files need pickle loading; that is an explicit opt-in here.
- **Freezing.** Every CLIP weight is frozen and the model is put in eval mode: prompt learners train only their own
  parameters (OpenAI CLIP as open_clip loads it).
"""

from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import open_clip
import torch
from open_clip.model import CLIP, convert_weights_to_lp

from comma_bench.clip.pretrained import pretrained_kind
from comma_bench.clip.zoo import OPENAI_MEAN, OPENAI_STD, get_model_spec, list_builtin_models
from comma_bench.errors import UserError

log = logging.getLogger(__name__)

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.float32}  # bf16 = autocast over fp32 weights


@dataclass
class Backbone:
    """A frozen CLIP plus what prompt learners need to know about it."""

    model: CLIP  # frozen open_clip CLIP (text tower hoisted onto the object), eval mode
    tokenizer: open_clip.tokenizer.SimpleTokenizer  # CLIP BPE, context length 77
    name: str  # `--model` as given
    pretrained: str  # `--pretrained` as given (tag, file path, builtin, none)
    image_size: int  # input resolution the transforms must produce
    mean: tuple[float, float, float]  # input normalisation
    std: tuple[float, float, float]
    quick_gelu: bool  # recorded: the activation the weights run with
    dtype: torch.dtype  # dtype of the transformer weights (fp16 only in the official pure-half mode)

    @property
    def text_width(self) -> int:
        return int(self.model.ln_final.weight.shape[0])  # ctx_dim in CoOp's terms

    @property
    def vision_width(self) -> int:
        return int(self.model.visual.conv1.out_channels)

    @property
    def embed_dim(self) -> int:
        proj = self.model.text_projection
        return int(proj.out_features if isinstance(proj, torch.nn.Linear) else proj.shape[1])

    @property
    def text_layers(self) -> int:
        return len(self.model.transformer.resblocks)

    @property
    def vision_layers(self) -> int:
        """Transformer blocks of the image tower; 0 for a ResNet tower (open_clip's `ModifiedResNet`)."""
        transformer = getattr(self.model.visual, "transformer", None)
        return len(transformer.resblocks) if transformer is not None else 0

    @property
    def context_length(self) -> int:
        return int(self.model.positional_embedding.shape[0])

    @property
    def device(self) -> torch.device:
        return self.model.logit_scale.device

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        """[N, 77] token ids (SOS + BPE + EOT, zero padded) on the backbone's device."""
        return self.tokenizer(texts).to(self.device)

    def cache_id(self) -> dict[str, object] | None:
        """What identifies these weights for the feature cache; None for random init (nothing to identify)."""
        tag = self.pretrained
        if pretrained_kind(tag) == "none":
            return None
        path = Path(tag).expanduser()
        spec = get_model_spec(self.name)
        if spec is not None and tag in spec.pretrained:
            path = Path(spec.pretrained[tag])
        ident: dict[str, object] = {
            "model": self.name,
            "pretrained": tag,
            "quick_gelu": self.quick_gelu,
            "dtype": str(self.dtype),
            "size": self.image_size,
        }
        if path.is_file():
            st = path.stat()
            ident.update(file=str(path.resolve()), bytes=st.st_size, mtime_ns=st.st_mtime_ns)
        return ident

    def describe(self) -> dict[str, object]:
        return {
            "model": self.name,
            "pretrained": self.pretrained,
            "quick_gelu": self.quick_gelu,
            "image_size": self.image_size,
            "dtype": str(self.dtype).replace("torch.", ""),
        }


def _is_torchscript_archive(path: Path) -> bool:
    """OpenAI's `.pt` files are TorchScript zip archives (they hold `constants.pkl` and a `code/` folder)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    return any(n.endswith("constants.pkl") for n in names) or any("/code/" in n for n in names)


def _load_state_dict_file(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        sd = load_file(str(path))
    else:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
        if isinstance(sd, dict) and "state_dict" in sd:
            sd = sd["state_dict"]
    sd = {k.removeprefix("module."): v for k, v in sd.items()}
    return {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}


def _hf_cache_dir() -> str:
    return os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface")), "hub"
    )


def _finish(
    model: CLIP, *, name: str, pretrained: str, mean, std, quick_gelu: bool, device: str, precision: str
) -> Backbone:
    if precision == "fp16":
        # The official code's PREC=fp16: Linear/Conv/MHA weights and the projections in half, LayerNorm in fp32.
        convert_weights_to_lp(model, torch.float16)
    model.requires_grad_(False)
    model.eval()
    model.to(device)
    size = model.visual.image_size
    size = int(size[0] if isinstance(size, (tuple, list)) else size)
    return Backbone(
        model=model,
        tokenizer=open_clip.get_tokenizer("ViT-B-16"),
        name=name,
        pretrained=pretrained,
        image_size=size,
        mean=tuple(mean),
        std=tuple(std),
        quick_gelu=quick_gelu,
        dtype=model.transformer.get_cast_dtype(),
    )


def load_backbone(
    model: str,
    pretrained: str | None = "none",
    *,
    device: str = "cpu",
    precision: str = "fp32",
    quick_gelu: bool | None = None,
    allow_torchscript: bool = False,
    cache_dir: str | None = None,
) -> Backbone:
    """Build a frozen CLIP.

    Args:
        model: open_clip model name (`ViT-B-16`), or a built-in one (`world-tiny`, `test-tiny`, `golden-vitb16-32`).
        pretrained: an open_clip tag (`openai`), `builtin` (shipped weights of a built-in model), a local
            `.safetensors`/`.pt`/`.bin` state dict, an OpenAI TorchScript archive (needs `allow_torchscript`), or
            `none` for random init.
        device: where the model lives.
        precision: `fp32` (also used under bf16 autocast) or `fp16` (the official pure-half mode).
        quick_gelu: None selects it automatically (from the tag, or on for OpenAI archives); True/False forces it
            and raises if it contradicts the tag.
        allow_torchscript: opt-in to unsafe pickle loading of OpenAI TorchScript archives.
        cache_dir: where open_clip looks for / stores downloaded weights.
    """
    if precision not in _DTYPES:
        raise UserError(f"precision: unknown {precision!r}; valid: {', '.join(_DTYPES)}")
    if precision == "bf16":
        precision = "fp32"  # bf16 runs as autocast over fp32 weights (the engine opens the autocast region)
    tag = (pretrained or "none").strip()
    cast = torch.float16 if precision == "fp16" else None

    spec = get_model_spec(model)
    if spec is not None:
        kwargs = dict(spec.open_clip_kwargs)
        qg = bool(kwargs.get("quick_gelu", False))
        if quick_gelu is not None and quick_gelu != qg:
            raise UserError(f"model {model!r} is defined with quick_gelu={qg}; it cannot be changed")
        net = CLIP(**kwargs, cast_dtype=cast)
        kind = pretrained_kind(tag)
        if kind != "none":
            path = spec.pretrained.get(tag) if kind == "tag" else Path(tag).expanduser()
            if path is None or (kind == "file" and not path.is_file()):
                valid = ", ".join([*spec.pretrained, "none", "<weights file>"])
                raise UserError(
                    f"pretrained {tag!r} for model {model!r} is neither a tag nor an existing file; valid: {valid}"
                )
            if not Path(path).is_file():
                raise UserError(f"weights of {model!r} ({tag}) not found at {path}; reinstall comma-bench")
            net.load_state_dict(_load_state_dict_file(Path(path)), strict=True)
        return _finish(
            net,
            name=model,
            pretrained=tag,
            mean=spec.mean,
            std=spec.std,
            quick_gelu=qg,
            device=device,
            precision=precision,
        )

    known = open_clip.list_models()
    if model not in known:
        raise UserError(
            f"unknown model {model!r}; valid: the built-in models {', '.join(list_builtin_models())} "
            f"or an open_clip model name ({', '.join(known)})"
        )
    cfg = open_clip.get_model_config(model) or {}
    cfg_qg = bool(cfg.get("quick_gelu", False))

    if pretrained_kind(tag) == "none":
        qg = cfg_qg if quick_gelu is None else quick_gelu
        net = open_clip.create_model(
            model, pretrained=None, force_quick_gelu=qg, precision=precision, require_pretrained=False
        )
        return _finish(
            net,
            name=model,
            pretrained="none",
            mean=OPENAI_MEAN,
            std=OPENAI_STD,
            quick_gelu=qg,
            device=device,
            precision="fp32",
        )

    path = Path(tag).expanduser()
    if pretrained_kind(tag) == "file":
        if not path.is_file():
            raise UserError(f"pretrained weights file {str(path)!r} does not exist")
        if _is_torchscript_archive(path):
            if not allow_torchscript:
                raise UserError(
                    f"{path} is an OpenAI TorchScript archive, which needs unsafe pickle loading; pass "
                    "--allow-torchscript (backbone.allow_torchscript: true) if you trust the file, or convert it "
                    "to .safetensors"
                )
            if quick_gelu is False:
                raise UserError(f"{path}: OpenAI weights need QuickGELU; quick_gelu=False contradicts them")
            net = open_clip.load_openai_model(str(path), precision="fp32", device="cpu")
            return _finish(
                net,
                name=model,
                pretrained=str(path),
                mean=OPENAI_MEAN,
                std=OPENAI_STD,
                quick_gelu=True,
                device=device,
                precision=precision,
            )
        # A plain state dict: the architecture decides the activation unless the caller says otherwise.
        qg = cfg_qg if quick_gelu is None else quick_gelu
        net = open_clip.create_model(model, pretrained=None, force_quick_gelu=qg, precision=precision)
        try:
            net.load_state_dict(_load_state_dict_file(path), strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise UserError(f"{path}: does not fit model {model!r} ({first})") from None
        return _finish(
            net,
            name=model,
            pretrained=str(path),
            mean=OPENAI_MEAN,
            std=OPENAI_STD,
            quick_gelu=qg,
            device=device,
            precision="fp32",
        )

    tags = open_clip.list_pretrained_tags_by_model(model)
    if tag not in tags:
        raise UserError(f"pretrained {tag!r} is not a tag of {model!r} nor an existing file; tags: {', '.join(tags)}")
    tag_cfg = open_clip.get_pretrained_cfg(model, tag)
    tag_qg = bool(tag_cfg.get("quick_gelu", False))
    if quick_gelu is not None and quick_gelu != tag_qg:
        raise UserError(
            f"{model} + {tag} weights were trained with quick_gelu={tag_qg}; quick_gelu={quick_gelu} "
            "would silently change every feature"
        )
    try:
        net = open_clip.create_model(
            model, pretrained=tag, force_quick_gelu=tag_qg, precision=precision, cache_dir=cache_dir
        )
    except RuntimeError as exc:
        if "download" not in str(exc).lower() and "offline" not in str(exc).lower():
            raise
        where = cache_dir or f"{_hf_cache_dir()} (Hugging Face cache) and ~/.cache/clip"
        raise UserError(
            f"weights for {model} tag {tag!r} are not available offline (looked in {where}); download them once "
            f"on a machine with network, or pass a local file: --pretrained /path/to/{model}.safetensors "
            "(a .pt/.bin state dict works too; an OpenAI TorchScript .pt needs --allow-torchscript)"
        ) from None
    mean = getattr(net.visual, "image_mean", None) or tag_cfg.get("mean") or OPENAI_MEAN
    std = getattr(net.visual, "image_std", None) or tag_cfg.get("std") or OPENAI_STD
    return _finish(
        net, name=model, pretrained=tag, mean=mean, std=std, quick_gelu=tag_qg, device=device, precision="fp32"
    )
