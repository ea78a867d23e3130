"""Protocol lookup by name: one dict, in the papers' order (the order of report sections and of `--help`)."""

from __future__ import annotations

import fnmatch

from comma_bench.errors import unknown_name
from comma_bench.protocols.base import Protocol
from comma_bench.protocols.base2novel import BASE2NOVEL
from comma_bench.protocols.few_shot import FEW_SHOT
from comma_bench.protocols.transfer import CROSS_DATASET, DOMAIN_GENERALIZATION

_PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (BASE2NOVEL, FEW_SHOT, CROSS_DATASET, DOMAIN_GENERALIZATION)}


def list_protocols(pattern: str = "*") -> list[str]:
    """Protocol names matching an fnmatch pattern, in canonical order (base2novel, few_shot, cross_dataset, DG)."""
    return [n for n in _PROTOCOLS if fnmatch.fnmatch(n, pattern)]


def get_protocol(name: str) -> Protocol:
    """The protocol called `name`; an unknown name is the one-line registry error listing the valid ones."""
    if name not in _PROTOCOLS:
        raise unknown_name("protocol", name, list_protocols())
    return _PROTOCOLS[name]


def protocol_rank(name: str) -> int:
    """Position of a protocol in canonical order (report sections sort by it)."""
    return list(_PROTOCOLS).index(name)
