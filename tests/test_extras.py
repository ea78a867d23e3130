"""The library without its extras: Ray (`[sweep]`) and pandas / matplotlib (`[report]`) are optional.

Each test starts a fresh interpreter in which those modules cannot be imported (`sys.modules[name] = None`, what an
environment without them looks like to `import`), so nothing imported earlier in the test session can hide an
import that the CLI or the library makes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.sweep.conftest import SMALL, write_sweep

REPO = Path(__file__).resolve().parents[1]
EXTRAS = ("ray", "pandas", "matplotlib", "seaborn", "scipy")


def _without(blocked: tuple[str, ...], body: str) -> subprocess.CompletedProcess:
    """Run `body` in a fresh interpreter where the `blocked` top-level modules cannot be imported."""
    code = f"import sys\nsys.modules.update({{m: None for m in {list(blocked)!r}}})\n" + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


HELP = [[], ["train"], ["eval"], ["run"], ["validate"], ["report"], ["datasets"]]


def test_help_works_without_the_extras() -> None:
    proc = _without(
        EXTRAS,
        f"""
        from comma_bench.cli import main
        for argv in {HELP!r}:
            try:
                main([*argv, "--help"])
            except SystemExit as exc:
                assert exc.code == 0, (argv, exc.code)
            print("ok", *argv)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("usage: comma-bench") == len(HELP)
    assert [line for line in proc.stdout.splitlines() if line.startswith("ok")][-1] == "ok datasets"


def test_commands_that_need_an_extra_say_which(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SMALL)
    proc = _without(
        EXTRAS,
        f"""
        from comma_bench.cli import main
        rc_report = main(["report", {str(tmp_path)!r}])
        rc_run = main(["run", {str(path)!r}, "--output", {str(tmp_path / "out")!r},
                       "--executor", "tests.sweep.executors:instant"])
        print("rc", rc_report, rc_run)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rc 2 2" in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "comma-bench report needs pandas, which is not installed: pip install 'comma-bench[report]'" in lines[0]
    assert "needs ray, which is not installed: pip install 'comma-bench[sweep]'" in lines[1]


def test_a_local_sweep_runs_without_ray_and_skips_its_report(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SMALL)
    proc = _without(
        EXTRAS,
        f"""
        from comma_bench.cli import main
        raise SystemExit(main(["run", {str(path)!r}, "--local", "--output", {str(tmp_path / "out")!r},
                               "--executor", "tests.sweep.executors:instant"]))
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "out" / "small" / "runs").glob("*.json"))) == 4
    assert "report: skipped: the report needs pandas" in proc.stdout + proc.stderr


def test_run_ids_records_and_sweep_planning_modules_import_without_torch() -> None:
    """What hashes a config and reads records needs no torch of its own (the method registry still does: see
    `comma_bench.config.resolve`)."""
    proc = _without(
        ("torch", "torchvision", "open_clip", *EXTRAS),
        """
        import comma_bench.clip.pretrained, comma_bench.config.overrides, comma_bench.config.resolve
        import comma_bench.record_schema, comma_bench.records, comma_bench.report.collect
        import comma_bench.sweep.plan, comma_bench.sweep.spec, comma_bench.sweep.sweepfile, comma_bench.sweep.trial
        from comma_bench.config.resolve import resolve_precision
        from comma_bench.records import run_id
        print(resolve_precision("auto", "cuda"), resolve_precision("auto", "cpu"), run_id({"a": 1, "device": "x"}))
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["bf16", "fp32", "015abd7f5cc5"]
