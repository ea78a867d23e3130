"""Typed, frozen run configuration shared by the CLI, the engine and the sweep runner."""

from comma_bench.config.schema import BackboneConfig, OptimConfig, RunConfig

__all__ = ["BackboneConfig", "OptimConfig", "RunConfig"]
