"""`--set KEY.PATH=VALUE`: the one grammar of every `--set` flag (`train`, `eval`, `run`, `validate`).

`parse_assignment` owns the syntax: KEY.PATH is a dotted path, VALUE is YAML read by the strict loader of
`yamlio` (so `1e-3` is a float, `[1, 2]` a list, `a photo of a` a string, `''` the empty string), and a malformed
flag is one line naming it. What a path addresses depends on what is overridden: here, the fields of one run's
`RunConfig`; in `comma_bench.sweep.spec.apply_set`, the keys of a sweep file.

Paths for one run: a top-level `RunConfig` field (`shots=4`, `precision=fp16`, `device=cpu`), `optim.<field>`,
`backbone.<field>`, or `method.<field>` (alias `method_config.<field>`, the spelling sweep files use) for the
method's own settings. Values are checked against the field types (`config.paths`), as in a sweep file.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from comma_bench.config import yamlio
from comma_bench.config.paths import CHOICES, check_value, run_paths
from comma_bench.config.schema import RunConfig
from comma_bench.errors import UserError

EXAMPLE = "e.g. --set optim.lr=0.01"


def parse_assignment(text: str) -> tuple[str, Any]:
    """`"optim.lr=1e-3"` -> `("optim.lr", 0.001)`; a flag without `=` or with bad YAML is a one-line error."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UserError(f"--set {text!r}: expected KEY.PATH=VALUE ({EXAMPLE})")
    return key, yamlio.loads(raw, f"--set {key}")


def apply_overrides(config: RunConfig, assignments: list[str]) -> RunConfig:
    """One run's config with each `--set` applied in order."""
    paths = run_paths(exclude=("sweep", "axes"))  # what a sweep sets for its runs, not a setting of one run
    for text in assignments:
        key, value = parse_assignment(text)
        head, _, rest = key.partition(".")
        if head in ("method", "method_config") and rest:
            config = config.replace(method_config={**config.method_config, rest: _method_value(config, rest, value)})
            continue
        if key not in paths:
            section = sorted(p for p in paths if p.startswith(f"{head}.")) if rest else []
            valid = section or [*sorted(p for p in paths if "." not in p), "optim.*", "backbone.*", "method.*"]
            raise UserError(f"--set {key}: unknown key; valid keys: {', '.join(valid)}")
        if key == "targets" and isinstance(value, str):
            value = [t for t in value.split(",") if t]  # `--set targets=a,b`, as `--targets a,b` takes them
        check_value(value, paths[key], f"--set {key}", CHOICES.get(key))
        value = tuple(value) if isinstance(value, list) else value
        if rest:
            section = dataclasses.replace(getattr(config, head), **{rest: value})
            config = config.replace(**{head: section})
        else:
            config = config.replace(**{key: value})
    return config


def _method_value(config: RunConfig, name: str, value: Any) -> Any:
    """A method setting checked against the method's config dataclass (an unknown name lists the valid ones)."""
    from comma_bench.sweep import names

    fields = names.method_fields(config.method)
    if name not in fields:
        valid = ", ".join(f"method.{f}" for f in sorted(fields)) or "none"
        raise UserError(f"--set method.{name}: method {config.method!r} has no such setting; valid: {valid}")
    check_value(value, fields[name], f"--set method.{name}")
    return value
