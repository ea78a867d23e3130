"""Run configuration: what one run trains and evaluates, as frozen dataclasses.

A run is (method, method config, protocol, dataset and targets, shots, seed, backbone, optimiser, precision). Every
field that can change a number is here and is written into the run record; the run id is a hash of the resolved
form (`comma_bench.config.resolve.resolved_config`), so two runs with the same id computed the same thing.

A few fields say where and as part of what a run computes, not what: the device, the data root, the sweep and its
axes. They are the *run context* (`RunContext`, `CONTEXT_FIELDS`): never hashed, and written to the record's
`context` beside its hashed `config`. `RunConfig` keeps them as plain fields so that one run is built in one call
(`RunConfig(method=..., device="cpu")`); `hashed_dict()` and `context` are the only places the two are split.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from comma_bench.errors import UserError
from comma_bench.protocols import get_protocol, list_protocols

# The protocol names, read from the protocol registry (the protocol objects are their one owner).
PROTOCOLS: tuple[str, ...] = tuple(list_protocols())
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class BackboneConfig:
    model: str = "world-tiny"  # open_clip model name (`ViT-B-16`) or a built-in one (`world-tiny`, `test-tiny`)
    pretrained: str = "builtin"  # open_clip tag (`openai`), a local weights file, `builtin`, or `none` (random init)
    allow_torchscript: bool = False  # opt-in: OpenAI TorchScript archives need unsafe (pickle) loading


@dataclass(frozen=True)
class OptimConfig:
    """Dassl's optimiser and schedule (Dassl.pytorch). None means: the method's official default."""

    lr: float | None = None  # SGD learning rate; method default (CoOp 0.002, MaPLe/COMMA 0.0035)
    epochs: int | None = None  # MAX_EPOCH; method default (CoOp 200, CoCoOp 10, MaPLe/COMMA 5)
    batch_size: int | None = None  # train batch; method default (CoOp 32, CoCoOp 1, MaPLe/COMMA 4)
    momentum: float = 0.9  # Dassl default, never overridden by the official configs
    weight_decay: float = 5e-4  # Dassl default
    warmup_epochs: int = 1  # constant warm-up epochs (WARMUP_EPOCH)
    warmup_lr: float = 1e-5  # constant warm-up LR (WARMUP_CONS_LR)
    test_batch_size: int = 100  # Dassl's test loader batch; results do not depend on it


@dataclass(frozen=True)
class RunContext:
    """Where a run computes and what it belongs to: recorded, never hashed into the run id."""

    device: str = "auto"  # auto: cuda if available, else cpu; changes where a run computes, not what
    data_root: str | None = None  # the CoOp `$DATA` folder: the same images under another path are the same run
    sweep: str | None = None  # name of the sweep the run belongs to: one run can be shared by two sweeps
    axes: dict[str, Any] = field(default_factory=dict)  # the sweep axes that produced the run (their values are
    # already in the hashed fields); kept for ablation tables


CONTEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunContext))


@dataclass(frozen=True)
class RunConfig:
    method: str  # registry key: zeroshot, coop, cocoop, maple, comma
    dataset: str  # training / evaluation dataset key (the source dataset for cross_dataset and DG)
    protocol: str = "base2novel"  # a `comma_bench.protocols` name (`list_protocols()`)
    targets: tuple[str, ...] = ()  # cross_dataset / DG: datasets evaluated zero-shot after source training
    shots: int = 16  # few-shot samples per class (Dassl's sampling); 0 or less = the full train split
    seed: int = 1  # Dassl SEED: seeds python, numpy and torch before the dataset and model are built
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    method_config: dict[str, Any] = field(default_factory=dict)  # overrides of the method's config dataclass
    precision: str = "auto"  # auto: fp32 on CPU, bf16 autocast on CUDA; fp16 = the official pure-half mode
    # -- the run context (RunContext): recorded, not hashed ---------------------------------------------------
    device: str = "auto"  # auto: cuda if available, else cpu
    data_root: str | None = None  # the CoOp `$DATA` folder; not needed for built-in `world/*` datasets
    sweep: str | None = None  # name of the sweep this run belongs to (not part of the run id)
    axes: dict[str, Any] = field(default_factory=dict)  # sweep axes that produced this run, for ablation tables

    def __post_init__(self) -> None:
        protocol = get_protocol(self.protocol)  # an unknown name is the registry's one-line error
        if self.precision not in PRECISIONS:
            raise UserError(f"precision: unknown {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if protocol.needs_targets and not self.targets:
            raise UserError(f"protocol {self.protocol!r} needs at least one target dataset (targets)")

    def to_dict(self) -> dict[str, Any]:
        """Every field, flat, as plain JSON (what Ray hands a trial; `from_dict` reads it back)."""
        d = dataclasses.asdict(self)
        d["targets"] = list(self.targets)
        return d

    def hashed_dict(self) -> dict[str, Any]:
        """The fields that change what a run computes (everything but the context), as plain JSON."""
        return {k: v for k, v in self.to_dict().items() if k not in CONTEXT_FIELDS}

    @property
    def context(self) -> RunContext:
        return RunContext(**{k: getattr(self, k) for k in CONTEXT_FIELDS})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """From `to_dict()` output, or from a record's hashed `config` with its `context` merged in."""
        d = dict(d)
        d["backbone"] = BackboneConfig(**d.get("backbone", {}))
        d["optim"] = OptimConfig(**d.get("optim", {}))
        d["targets"] = tuple(d.get("targets", ()))
        return cls(**d)

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)
