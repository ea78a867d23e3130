"""Errors the engine raises for a run that cannot go on (recorded as failed by the sweep runner)."""

from __future__ import annotations


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite (fp16 without loss scaling is the usual cause, openai/CLIP#40)."""
