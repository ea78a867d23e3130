"""The unit of every dataset: one image path, its label and its class name.

The class is deliberately called `Datum` and keeps Dassl's attribute names (`impath`, `label`, `domain`, `classname`)
so that the few-shot pickles written by the Dassl-based repositories (CoOp, CoCoOp, MaPLe, COMMA) can be read by our
restricted unpickler and produce the same items (see `comma_bench.data.fewshot`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Datum:
    impath: str  # absolute path of the image file, or a `world://...` address for built-in procedural images
    label: int  # 0-based class index in the split it belongs to
    classname: str  # class name as the split file gives it (underscores are replaced only when prompts are built)
    domain: int = 0  # Dassl keeps a domain id; unused by the protocols here, kept for pickle parity
