"""Typed, frozen run configuration shared by the CLI, the engine and the sweep runner."""

from comma_bench.config.schema import PROTOCOLS, BackboneConfig, OptimConfig, RunConfig

__all__ = ["PROTOCOLS", "BackboneConfig", "OptimConfig", "RunConfig"]
