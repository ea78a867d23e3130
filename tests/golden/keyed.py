"""The keyed fill rule of the golden fixtures (tests/golden/SOURCE.md §3), re-implemented for the tests.

Every CLIP tensor, method parameter and input image of the fixtures is a function of (name, shape): a float64
normal draw from a generator seeded by sha256(name), scaled, offset and rounded to float32 once. The fixtures give
`scale` and `offset` per tensor, so only the draw itself is implemented here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from pathlib import Path

import torch

HERE = Path(__file__).parent
LOGIT_SCALE = math.log(1 / 0.07)


@functools.cache
def load_fixture(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text())


def key_seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little") % (2**63)


def keyed(name: str, shape, scale: float = 1.0, offset: float = 0.0) -> torch.Tensor:
    g = torch.Generator(device="cpu").manual_seed(key_seed(name))
    x = torch.randn(tuple(int(s) for s in shape), generator=g, dtype=torch.float64)
    return (x * float(scale) + float(offset)).to(torch.float32)


def sha256(t: torch.Tensor) -> str:
    a = t.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4", copy=False)
    return hashlib.sha256(a.tobytes()).hexdigest()


def fill_clip(model: torch.nn.Module) -> dict[str, str]:
    """Overwrite every state-dict entry of `model` with its keyed value; returns key -> sha256 of what was written."""
    table = {row["key"]: row for row in load_fixture("clip_zeroshot")["state_dict"]}
    sd = model.state_dict()
    if set(sd) != set(table):
        raise AssertionError(f"state dict keys differ: {sorted(set(sd) ^ set(table))[:5]}")
    new = {}
    for key, ref in sd.items():
        row = table[key]
        if key == "logit_scale":
            new[key] = torch.full(tuple(ref.shape), LOGIT_SCALE, dtype=torch.float32)
        else:
            new[key] = keyed(key, row["shape"], row["scale"], row["offset"])
    model.load_state_dict(new, strict=True)
    return {k: sha256(v) for k, v in model.state_dict().items()}


def images(fixture: dict) -> torch.Tensor:
    spec = fixture["inputs"]["images"]
    return keyed(spec["fill_name"], spec["shape"], spec["scale"], spec["offset"])


def projections(canonical: str, numel: int, n: int = 16) -> torch.Tensor:
    return torch.stack([keyed(f"proj/{canonical}/{k}", [numel]) for k in range(n)]).double()  # [16, numel]
