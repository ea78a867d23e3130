"""Protocol lookup by name: the generic registry (`comma_bench.registry`), the one list of protocols.

Each protocol module registers its object (`register_protocol(BASE2NOVEL)`); the registry finds those modules on
first use, so the config schema, the record schema, the sweep-file validator and `comma-bench list protocols` all
read the names from here and a new protocol is one new module. Listing order is the objects' `rank` (the papers'
order: base2novel, few_shot, cross_dataset, domain_generalization), which is also the order of report sections.
"""

from __future__ import annotations

from comma_bench.protocols.base import Protocol
from comma_bench.registry import Registry

PROTOCOLS: Registry[Protocol] = Registry(
    "protocol", marker="register_protocol", sort_key=lambda name, protocol: (protocol.rank, name)
)


def register_protocol(protocol: Protocol) -> Protocol:
    """Add a protocol object under its name (a second one under the same name raises)."""
    return PROTOCOLS.add(protocol.name, protocol)


def list_protocols(pattern: str = "*") -> list[str]:
    """Protocol names matching an fnmatch pattern, in canonical order (base2novel, few_shot, cross_dataset, DG)."""
    return PROTOCOLS.names(pattern)


def get_protocol(name: str) -> Protocol:
    """The protocol called `name`; an unknown name is the one-line registry error listing the valid ones."""
    return PROTOCOLS.get(name)


def protocol_rank(name: str) -> int:
    """Position of a protocol in canonical order (report sections sort by it)."""
    return list_protocols().index(name)
