"""Typed, frozen run configuration shared by the CLI, the engine and the sweep runner."""

from comma_bench.config.schema import CONTEXT_FIELDS, PROTOCOLS, BackboneConfig, OptimConfig, RunConfig, RunContext

__all__ = ["CONTEXT_FIELDS", "PROTOCOLS", "BackboneConfig", "OptimConfig", "RunConfig", "RunContext"]
