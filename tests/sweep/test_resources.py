"""Resource placement rules and the Ray-free paths (validate, --dry-run), without starting Ray."""

from __future__ import annotations

import subprocess
import sys

from comma_bench.sweep.ray_backend import check_fits, packing, resolve_gpus
from tests.sweep.conftest import REPO, SMALL, subprocess_env, write_sweep


def test_gpus_default_to_one_per_trial_on_gpu_clusters_and_zero_elsewhere():
    assert resolve_gpus(None, 0.0) == 0.0  # CPU-only machine: CPU-only trials
    assert resolve_gpus(None, 8.0) == 1.0  # GPU node: one whole GPU per trial
    assert resolve_gpus(0.25, 8.0) == 0.25 and packing(0.25) == 4  # fractions pack several trials per GPU
    assert resolve_gpus(0.0, 8.0) == 0.0 and packing(1.0) == 1


def test_a_trial_that_cannot_fit_is_reported_instead_of_waiting_forever():
    cluster = {"CPU": 2.0, "GPU": 0.0}
    assert check_fits(1, 0, cluster, joined=False) is None
    msg = check_fits(4, 1, cluster, joined=False)
    assert "resources.cpus=4 per trial but the Ray cluster has 2 CPUs" in msg
    assert "resources.gpus=1 per trial but the Ray cluster has 0 GPUs" in msg and "--set resources.gpus=0" in msg


def test_validate_and_dry_run_never_import_ray(tmp_path):
    path = write_sweep(tmp_path, SMALL)
    code = (
        "import sys\n"
        "from comma_bench.cli import main\n"
        f"assert main(['validate', {str(path)!r}]) == 0\n"
        f"assert main(['run', {str(path)!r}, '--dry-run', '--output', {str(tmp_path / 'out')!r}]) == 0\n"
        "loaded = sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.'))\n"
        "assert not loaded, loaded\n"
        "print('no ray')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True,
                          timeout=120, cwd=REPO)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no ray" in proc.stdout and "4 to run now" in proc.stdout
