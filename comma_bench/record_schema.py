"""The run record as a typed (pydantic v2) model: what the engine returns, a trial writes and a report reads.

One model instead of a dict built in three places and re-checked by hand in the report collector: the engine
(`engine/run.py`), a failed trial (`sweep/trial.py`) and the test executors all construct a `RunRecord`, so a record
that would break a report cannot be written, and `RunRecord.load` gives the one-line error for one that was.

A record keeps the hashed run config (`config`, what the run id is computed from) apart from the run context
(`context`: device, data root, sweep, axes; see `comma_bench.config.RunContext`). Records written before that split
(schema `comma-bench/run/1`, context keys inside `config`) are read by moving those keys out; their run id is
unchanged, since it never hashed them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from comma_bench.config.schema import CONTEXT_FIELDS, PROTOCOLS

SCHEMA = "comma-bench/run/2"
LEGACY_SCHEMAS = ("comma-bench/run/1",)  # read and migrated, never written
SCHEMA_PREFIX = "comma-bench/run/"  # what a record's text names, even when it was cut short

NonEmpty = Annotated[str, Field(min_length=1)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Model(BaseModel):
    # Records are immutable once written; unknown keys at a fixed level are typos, not data.
    model_config = ConfigDict(frozen=True, extra="forbid")


class BackboneRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")  # allow_torchscript and any later backbone field

    model: str  # `--model`
    pretrained: str  # `--pretrained` as given: tag, weights file, builtin or none


class RecordConfig(BaseModel):
    """The hashed run config, resolved (method settings and optimiser defaults filled in)."""

    # Free-form below the fields a report groups by: a field added to RunConfig must not make old code refuse it.
    model_config = ConfigDict(frozen=True, extra="allow")

    method: NonEmpty  # registry key
    dataset: NonEmpty  # training / source dataset
    protocol: Literal[PROTOCOLS]  # type: ignore[valid-type]
    targets: list[str] = []  # transfer protocols: the target datasets
    shots: StrictInt  # few-shot K
    seed: StrictInt  # Dassl SEED
    backbone: BackboneRef
    precision: str = ""  # the effective precision ("" in hand-written records)
    optim: dict[str, Any] = {}  # resolved optimiser values
    method_config: dict[str, Any] = {}  # resolved method settings


class RecordContext(_Model):
    """The unhashed run context (`comma_bench.config.RunContext`) as recorded."""

    device: str = "auto"
    data_root: str | None = None
    sweep: str | None = None
    axes: dict[str, Any] = {}


class EvalResult(_Model):
    """One evaluated (dataset, class subset)."""

    dataset: str
    subset: Literal["base", "new", "all"]
    n_classes: int | None = None
    n_images: int | None = None
    accuracy: Finite  # top-1, percent
    macro_f1: float | None = None  # percent


class Failure(_Model):
    reason: str  # one line: exception type and message
    traceback_file: str | None = None  # relative to the runs folder


class RunRecord(_Model):
    """One run, finished or failed. Field order is the order of the JSON file."""

    schema_: Literal["comma-bench/run/2"] = Field(SCHEMA, alias="schema")
    run_id: NonEmpty  # 12 hex digits of `records.run_id(config)`
    status: Literal["finished", "failed"]
    kind: Literal["train", "eval"]  # eval: no training (zero-shot)
    config: RecordConfig
    context: RecordContext = RecordContext()
    evals: list[EvalResult] = []
    metrics: dict[str, float] = {}  # protocol summary, percent
    higher_is_better: dict[str, bool] = {}
    train: dict[str, Any] | None = None  # TrainHistory.to_dict(); None for eval records and failures
    trainable_params: int | None = None
    # Method settings that differ from the method's official (registered) defaults, derived from `config` when the
    # run was made and not hashed; a report shows the papers' numbers only beside runs at the published settings.
    # None in records written before it (such runs are compared as before).
    method_deviations: dict[str, Any] | None = None
    timings: dict[str, float] = {}
    resources: dict[str, Any] = {}
    data: dict[str, Any] | None = None  # few-shot source, split fingerprint (not hashed), sizes
    backbone: dict[str, Any] | None = None  # Backbone.describe()
    versions: dict[str, str | None] = {}
    created: str  # ISO-8601 UTC
    failure: Failure | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        """Schema run/1 -> run/2: the context keys move out of `config` (nothing else changed)."""
        if isinstance(data, dict) and data.get("schema") in LEGACY_SCHEMAS and "context" not in data:
            data = dict(data, schema=SCHEMA)
            if isinstance(data.get("config"), dict):
                config = dict(data["config"])
                context = {k: config.pop(k) for k in CONTEXT_FIELDS if k in config}
                data.update(config=config, context=context)
        return data

    @field_validator("created")
    @classmethod
    def _iso_time(cls, value: str) -> str:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value!r}") from None
        return value

    @model_validator(mode="after")
    def _status_fits(self) -> RunRecord:
        if self.status == "finished" and not self.evals:
            raise ValueError("a finished run must have at least one entry in `evals`")
        if self.status == "failed" and self.failure is None:
            raise ValueError("a failed run must have `failure.reason`")
        return self

    # -- reading and writing -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, obj: Any, where: str) -> RunRecord:
        """Validate parsed JSON; every problem becomes one line `where: malformed run record: `key.path`: msg`."""
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise record_error(where, exc) from None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON in the documented layout (`schema` first)."""
        return self.model_dump(mode="json", by_alias=True)

    @property
    def created_time(self) -> dt.datetime:
        t = dt.datetime.fromisoformat(self.created)
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def record_error(where: str, exc: ValidationError) -> Exception:
    """One line naming the file and every bad key path of a record."""
    from comma_bench.errors import UserError

    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(f"`{loc}`: {msg}" if loc else msg)
    return UserError(f"{where}: malformed run record: {'; '.join(problems)}")
