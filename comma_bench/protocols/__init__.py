"""Evaluation protocols as objects: base2novel, few_shot, cross_dataset and domain_generalization.

Each owns its class subsampling and evaluation (`comma_bench.engine.run`), the meaning of its evaluations
(`comma_bench.report.collect`), its metric columns and its tables (`comma_bench.protocols.tables`). Nothing outside
this package branches on a protocol's name.
"""

from comma_bench.protocols.base import Protocol
from comma_bench.protocols.registry import get_protocol, list_protocols, protocol_rank

__all__ = ["Protocol", "get_protocol", "list_protocols", "protocol_rank"]
