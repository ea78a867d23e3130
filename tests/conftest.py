"""Shared fixtures: keep torch to the 2 cores CI has, and build the expensive golden backbone once per session."""

from __future__ import annotations

import os

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never download
if "COMMA_BENCH_CACHE" not in os.environ:  # never touch the user's cache; one fresh cache per test session
    import tempfile

    os.environ["COMMA_BENCH_CACHE"] = tempfile.mkdtemp(prefix="comma-bench-test-cache-")


@pytest.fixture(scope="session")
def golden_backbone():
    """ViT-B/16 widths at 32x32 input, every tensor keyed-filled as in tests/golden (fp32, CPU)."""
    from comma_bench.clip import load_backbone
    from tests.golden.keyed import fill_clip

    bb = load_backbone("golden-vitb16-32", "none")
    fill_clip(bb.model)
    return bb


@pytest.fixture(scope="session")
def tiny_backbone():
    """2-layer width-64 random-init CLIP with the real tokenizer."""
    from comma_bench.clip import load_backbone

    torch.manual_seed(0)
    return load_backbone("test-tiny", "none")
