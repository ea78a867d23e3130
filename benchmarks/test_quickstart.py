"""Wall time of the quick-start sweep: `comma-bench run sweeps/quickstart.yaml --output <tmp>`, cold, once.

It takes minutes, so it runs only when `COMMA_BENCH_BENCH_QUICKSTART=1`. The sweep runs in a subprocess with an empty
cache and an empty output folder (nothing to resume, nothing cached); peak memory is the summed PSS of the whole
process tree (the CLI, Ray's daemons and its workers), sampled every 0.5 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.memory import TreeMemorySampler
from comma_bench.record_schema import SCHEMA

REPO = Path(__file__).resolve().parents[1]
SWEEP = "sweeps/quickstart.yaml"
EXPECTED_RUNS = 15  # 3 datasets x 5 methods x 1 seed


@pytest.mark.benchmark(group="quickstart sweep (wall time)")
@pytest.mark.skipif(
    os.environ.get("COMMA_BENCH_BENCH_QUICKSTART") != "1",
    reason="takes minutes; set COMMA_BENCH_BENCH_QUICKSTART=1 to time the quick-start sweep",
)
def test_quickstart_sweep(benchmark, tmp_path):
    out = tmp_path / "runs"
    env = {**os.environ, "COMMA_BENCH_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "comma_bench", "run", SWEEP, "--output", str(out)]
    result: dict[str, object] = {}

    def run():
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        with proc, TreeMemorySampler(proc.pid) as sampler:
            output, _ = proc.communicate()
        result.update(wall_s=time.perf_counter() - start, peak_mb=sampler.peak_mb, processes=sampler.max_processes)
        # Raised inside the timed call, so that pytest-benchmark records a failed sweep as an error, not a time.
        tail = output.decode(errors="replace")[-3000:]
        first_error = next((line.strip() for line in tail.splitlines() if "Error" in line), "")
        assert proc.returncode == 0, f"`comma-bench run {SWEEP}` exited with {proc.returncode}: {first_error}\n{tail}"
        records = [json.loads(p.read_text()) for p in out.rglob("*.json")]
        finished = [r for r in records if r.get("schema") == SCHEMA and r.get("status") == "finished"]
        assert len(finished) == EXPECTED_RUNS, f"expected {EXPECTED_RUNS} finished run records, found {len(finished)}"
        result["runs"] = len(finished)

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(
        variant="cold sweep (empty cache and output)",
        baseline=True,
        command=f"comma-bench run {SWEEP} --output <tmp>",
        runs=result["runs"],
        wall_s=round(float(result["wall_s"]), 1),
        peak_mem_mb=round(float(result["peak_mb"]), 1),
        peak_mem_kind="tree-pss",
        peak_mem_warmup=False,
        max_processes=result["processes"],
    )
