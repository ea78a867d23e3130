"""Published reference numbers (the papers' tables), shipped as package data, shown beside reproduced results.

Every published number is for CLIP ViT-B/16 with OpenAI weights, 16 shots per class, mean of three seeds, under one
named protocol. A published row is therefore only comparable with reproduced runs of the same protocol, backbone
(`ViT-B-16` / `openai`) and shot count; `matches_published` is the one place that decides this, so that a number
from a paper is never printed beside, say, a `world-tiny` run.

The CSV files are copies of `shared/reference/*.csv`, plus three base-to-novel averages the shared copy lacks (IVLP,
IVLP without vision prompts, i.e. deep language prompting, and VPT-deep, from the model-zoo table of MaPLe's README)
and a `settings` column: the method settings each published number was measured with where they are not the
method's official defaults (`prompt_depth=3` for MaPLe's cross-dataset config), as `key=value;key=value`, empty for
the defaults. A reproduced run is shown beside a published number only when the settings it ran off its method's
defaults (the record's `method_deviations`) are exactly these. The `source` column names the table each number
comes from.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from io import StringIO
from typing import Any

import pandas as pd

from comma_bench.protocols import get_protocol
from comma_bench.records import canonical_json

# The setting every published number was measured in (the papers' tables).
PUBLISHED_MODEL = "ViT-B-16"
PUBLISHED_PRETRAINED = "openai"
PUBLISHED_SHOTS = 16
# The source dataset of every published cross-dataset / domain-generalisation row.
PUBLISHED_TRANSFER_SOURCE = "imagenet"


def matches_published(protocol: str, backbone_model: str, backbone_pretrained: str, shots: int | float) -> bool:
    """True when reproduced runs of this setting may be compared with the published numbers."""
    return (
        get_protocol(protocol).published_csv is not None
        and backbone_model == PUBLISHED_MODEL
        and backbone_pretrained == PUBLISHED_PRETRAINED
        and shots == PUBLISHED_SHOTS
    )


def parse_settings(text: str) -> dict[str, Any]:
    """A `settings` cell (`key=value;key=value`, values as JSON scalars) as a dict; empty: the method's defaults."""
    settings: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"published settings {text!r}: expected key=value;key=value")
        try:
            settings[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            settings[key.strip()] = value.strip()
    return settings


@functools.cache
def _read(protocol: str) -> pd.DataFrame:
    """The protocol's CSV, its `settings` as canonical JSON ("{}" for the defaults), comparable with records."""
    text = resources.files("comma_bench.report").joinpath("reference", get_protocol(protocol).published_csv).read_text()
    df = pd.read_csv(StringIO(text), dtype={"settings": str})
    df["settings"] = [canonical_json(parse_settings(t)) for t in df["settings"].fillna("")]
    return df


def published_configurations(protocol: str, method: str) -> tuple[str, ...]:
    """The settings (canonical JSON) of every published configuration of `method` under `protocol`, in CSV order."""
    if get_protocol(protocol).published_csv is None:
        return ()
    df = _read(protocol)
    return tuple(dict.fromkeys(df.loc[df["method"] == method, "settings"]))


def published_base2novel() -> pd.DataFrame:
    """One row per (method, dataset) with `base`, `novel`, `hm`, `source`; dataset `average` = 11-dataset mean."""
    return _read("base2novel").copy()


def published_cross_dataset() -> pd.DataFrame:
    """Wide table as published: `method`, `source_imagenet`, the ten targets, `average`, `source`."""
    return _read("cross_dataset").copy()


def published_domain_generalization() -> pd.DataFrame:
    """Wide table as published: `method`, `imagenet`, the four shifted sets, `average` (of the four), `source`."""
    return _read("domain_generalization").copy()


def published_transfer(protocol: str) -> pd.DataFrame:
    """Cross-dataset or DG numbers in long form: `method`, `settings`, `column`, `accuracy`, `citation`.

    `column` is `"source"` for the ImageNet source accuracy, a dataset key for each target, and `"target_mean"` for
    the published mean over the targets, the same names the reproduced transfer tables use.
    """
    source_column = get_protocol(protocol).published_source_column
    if source_column is None:
        raise ValueError(f"no published transfer numbers for protocol {protocol!r}")
    wide = _read(protocol)
    rename = {source_column: "source", "average": "target_mean"}
    rows = []
    for _, rec in wide.iterrows():
        for col in wide.columns:
            if col in ("method", "settings", "source"):
                continue
            rows.append(
                {
                    "method": rec["method"],
                    "settings": rec["settings"],
                    "column": rename.get(col, col),
                    "accuracy": float(rec[col]),
                    "citation": rec["source"],
                }
            )
    return pd.DataFrame(rows, columns=["method", "settings", "column", "accuracy", "citation"])


def published_targets(protocol: str) -> tuple[str, ...]:
    """The target datasets a published transfer mean was taken over, in the published column order."""
    long = published_transfer(protocol)
    cols = [c for c in dict.fromkeys(long["column"]) if c not in ("source", "target_mean")]
    return tuple(cols)


def published_base2novel_datasets() -> tuple[str, ...]:
    """The datasets behind each published base-to-novel average (the papers' 11), in published order."""
    df = _read("base2novel")
    return tuple(d for d in dict.fromkeys(df["dataset"]) if d != "average")
