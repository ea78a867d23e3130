"""Benchmark fixtures: pinned threads, the device, shared backbones, and `measure` (time + peak memory per variant).

The default `pytest` run never collects this folder (`testpaths = ["tests"]` in pyproject.toml); the benchmarks run
with `make bench`, i.e. `pytest benchmarks --benchmark-only --benchmark-json=benchmarks/results.json`. Whenever a
JSON file is written, `RESULTS.md` is rendered next to it (`benchmarks/summarize.py`), so that one command produces
both.

Environment:
- `COMMA_BENCH_BENCH_DEVICE`: `cpu` (default) or `cuda[:i]`.
- `COMMA_BENCH_BENCH_THREADS`: torch intra-op threads (default 2, the CI machine's cores).
- `COMMA_BENCH_BENCH_QUICKSTART=1`: also time the quick-start sweep (minutes).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from benchmarks.memory import peak_memory

THREADS = int(os.environ.get("COMMA_BENCH_BENCH_THREADS", "2"))
torch.set_num_threads(THREADS)
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # benchmarks never download
if "COMMA_BENCH_CACHE" not in os.environ:  # never read or fill the user's cache: a cached run would time nothing
    os.environ["COMMA_BENCH_CACHE"] = tempfile.mkdtemp(prefix="comma-bench-bench-cache-")

BACKBONES = {
    "tiny": "test-tiny",  # 2 layers, width 64 per tower
    "vitb16": "golden-vitb16-32",  # ViT-B/16 widths and depths (text tower exactly ViT-B/16's), 32 px vision input
}


_LOAD_AT_START: list[float] = []


def pytest_sessionstart(session):
    _LOAD_AT_START.append(os.getloadavg()[0])  # the cores are shared: say how busy the machine was


def bench_device() -> torch.device:
    return torch.device(os.environ.get("COMMA_BENCH_BENCH_DEVICE", "cpu"))


@functools.cache
def backbone(key: str):
    """The random-init backbone `BACKBONES[key]` on the bench device, built once per session (seed 0)."""
    from comma_bench.clip import load_backbone

    torch.manual_seed(0)
    return load_backbone(BACKBONES[key], "none", device=str(bench_device()))


@pytest.fixture(scope="session")
def device() -> torch.device:
    return bench_device()


def _synced(fn: Callable[[], object], device: torch.device) -> Callable[[], object]:
    """On CUDA a call returns before the kernels finish: time until they have."""
    if device.type != "cuda":
        return fn

    def run():
        out = fn()
        torch.cuda.synchronize(device)
        return out

    return run


@pytest.fixture()
def measure(benchmark, device):
    """`measure(fn, variant=..., baseline=..., rounds=..., ...)`: peak memory of one call, then the timed rounds.

    Besides wall time (pytest-benchmark's timer) it records the median process CPU time of the timed rounds
    (`cpu_s_median`, all threads summed): the cores are shared, and CPU time is what other processes cannot inflate
    (though it includes OpenMP threads spinning while they wait for each other).

    Every keyword that is not a timing option is stored in `benchmark.extra_info` (backbone, n_classes, the inputs
    of the ratio...). `baseline=True` marks the variant the others of its group are compared with in RESULTS.md.
    """

    def run(
        fn: Callable[[], object],
        *,
        variant: str,
        baseline: bool = False,
        rounds: int = 3,
        warmup_rounds: int = 1,
        memory_warmup: bool = True,
        **info: object,
    ):
        benchmark.extra_info.update(variant=variant, baseline=baseline, device=str(device), threads=THREADS, **info)
        benchmark.extra_info["loadavg_1min"] = round(os.getloadavg()[0], 2)
        if not benchmark.disabled:
            benchmark.extra_info.update(peak_memory(fn, device, warmup=memory_warmup).as_info())
        benchmark.extra_info["rounds"] = rounds
        synced, cpu_s = _synced(fn, device), []

        def timed():
            start = time.process_time()
            out = synced()
            cpu_s.append(time.process_time() - start)
            return out

        result = benchmark.pedantic(timed, rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)
        if len(cpu_s) >= rounds:  # the last `rounds` calls are the timed ones (warm-up rounds come first)
            benchmark.extra_info["cpu_s_median"] = round(statistics.median(cpu_s[-rounds:]), 6)
        return result

    return run


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pytest_benchmark_update_machine_info(config, machine_info):
    """What RESULTS.md needs to say where the numbers come from, beyond pytest-benchmark's own fields."""
    device = bench_device()
    machine_info["comma_bench"] = {
        "nproc": os.cpu_count(),
        "sched_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "torch": torch.__version__,
        "torch_threads": THREADS,
        "device": str(device),
        "cuda_device": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "mem_total_gb": _mem_total_gb(),
        "loadavg_start": _LOAD_AT_START[0] if _LOAD_AT_START else None,
        "loadavg_end": os.getloadavg()[0],
        "command": " ".join(["python -m pytest", *config.invocation_params.args]),
        "env": {k: v for k, v in os.environ.items() if k.startswith("COMMA_BENCH_BENCH_")},
    }


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


_FAILURES: list[dict[str, str]] = []


def pytest_runtest_logreport(report):
    """Failed benchmarks are left out of pytest-benchmark's JSON; keep them so that RESULTS.md can say so."""
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr)
        first = (message.splitlines() or [""])[0][:300]
        _FAILURES.append({"test": report.nodeid, "when": report.when, "message": first})


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Render RESULTS.md next to the JSON file pytest-benchmark is about to write (`make bench` writes both)."""
    output_json["comma_bench_failures"] = list(_FAILURES)
    target = config.getoption("benchmark_json")
    if not target:
        return
    from benchmarks.summarize import render

    data = json.loads(json.dumps(output_json, default=str))
    Path(target).parent.mkdir(parents=True, exist_ok=True)  # pytest-benchmark writes the JSON there next
    Path(target).parent.joinpath("RESULTS.md").write_text(render(data, json_name=Path(target).name))
