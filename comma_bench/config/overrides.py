"""`--set key.path=value` overrides for a single run's config (the sweep runner has its own, file-level, ones).

Paths: a top-level RunConfig field (`shots=4`, `precision=fp16`), `optim.<field>`, `backbone.<field>`, or
`method.<field>` (alias `method_config.<field>`) for the method's own settings. Values are parsed as YAML scalars, so
`4` is an int, `1e-3` a float, `true` a bool and `a photo of a` a string.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from comma_bench.config.schema import BackboneConfig, OptimConfig, RunConfig
from comma_bench.errors import UserError


def parse_assignment(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise UserError(f"--set {text!r}: expected key.path=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def apply_overrides(config: RunConfig, assignments: list[str]) -> RunConfig:
    top = {f.name for f in dataclasses.fields(RunConfig)} - {"backbone", "optim", "method_config"}
    sections = {"optim": OptimConfig, "backbone": BackboneConfig}
    for text in assignments:
        key, value = parse_assignment(text)
        head, _, rest = key.partition(".")
        if not rest and head in top:
            if head == "targets":
                value = tuple(value if isinstance(value, list) else str(value).split(","))
            config = config.replace(**{head: value})
        elif head in sections and rest:
            valid = {f.name for f in dataclasses.fields(sections[head])}
            if rest not in valid:
                raise UserError(f"--set {key}: unknown field; valid {head} fields: {', '.join(sorted(valid))}")
            section = dataclasses.replace(getattr(config, head), **{rest: value})
            config = config.replace(**{head: section})
        elif head in ("method", "method_config") and rest:
            config = config.replace(method_config={**config.method_config, rest: value})
        else:
            valid = [*sorted(top), "optim.<field>", "backbone.<field>", "method.<field>"]
            raise UserError(f"--set {key}: unknown key; valid keys: {', '.join(valid)}")
    return config
