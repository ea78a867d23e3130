"""Sweep test fixtures: one Ray instance for the whole test session, and small sweep files.

Ray takes about 5 s to start on 2 cores, so every `@pytest.mark.ray` test shares `ray_address` (Ray's own advice in
"Tips for testing Ray programs"). The instance has 2 CPUs and one *logical* GPU, so GPU placement (fractional packing)
is exercised on CPU-only machines. Tests never read /work/shared; sweep files are written into tmp_path.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Quiet, test-only Ray settings (backbone-and-sweeps.md §3.2). RAY_AUTH_MODE=disabled is for tests only: by default
# Ray 2.60 writes ~/.ray/auth_token and requires the token.
RAY_TEST_ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AIR_NEW_OUTPUT": "0",
    "RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS": "0",
    "RAY_DEDUP_LOGS": "0",
}


def subprocess_env() -> dict[str, str]:
    """Environment for a driver subprocess: the test Ray settings and this checkout on the path."""
    env = dict(os.environ, **RAY_TEST_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.fixture(scope="session")
def ray_address():
    """Start the session's Ray instance; yields its address (other drivers join it with --address)."""
    os.environ.update(RAY_TEST_ENV)
    # Workers inherit the environment at start-up: they must import `tests.sweep.executors`.
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    import logging

    import ray

    temp_dir = tempfile.mkdtemp(prefix="cbray-")  # short: Ray's socket paths must stay under 107 characters
    ctx = ray.init(
        num_cpus=2,
        num_gpus=1,  # logical: placement logic is tested without a GPU
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        object_store_memory=200 * 2**20,
        _temp_dir=temp_dir,
        _node_ip_address="127.0.0.1",  # test traffic stays on loopback, whatever this machine's interfaces are
    )
    yield ctx.address_info["address"]
    ray.shutdown()


def write_sweep(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# A small valid sweep on the built-in world (run with a test executor, so the backbone is never loaded).
SMALL = """
name: small
protocol: base2novel
datasets: [world/shapes]
seeds: [1, 2]
shots: 4
backbone: {model: world-tiny, pretrained: builtin}
methods:
  coop: {}
  maple: {prompt_depth: 2}
optim: {epochs: 2}
resources: {cpus: 1, gpus: 0}
"""
