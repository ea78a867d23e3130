"""`comma-bench datasets list|check` through `comma_bench.cli.main`."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from comma_bench.cli import main
from comma_bench.data.registry import list_datasets
from tests.data.coop_tree import ALL_KEYS


def test_list_prints_every_key(capsys: pytest.CaptureFixture) -> None:
    assert main(["datasets", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert set(ALL_KEYS) <= set(lines)
    real = [k for k in lines if not k.startswith("world/")]
    assert real == sorted(real)


def test_list_pattern(capsys: pytest.CaptureFixture) -> None:
    assert main(["datasets", "list", "imagenet*"]) == 0
    assert capsys.readouterr().out.split() == ["imagenet", "imagenet_a", "imagenet_r", "imagenet_sketch", "imagenetv2"]


def test_check_found_and_missing(fresh_tree, capsys: pytest.CaptureFixture) -> None:
    root, _ = fresh_tree(["oxford_pets", "imagenet", "imagenet_r", "dtd"])
    shutil.rmtree(root / "dtd" / "images")
    assert main(["datasets", "check", "--data-root", str(root)]) == 0
    out = {line.split()[0]: line.split(None, 2)[1:] for line in capsys.readouterr().out.splitlines()}
    exported = list_datasets("world-files/*")  # `world export` folders, read as files: none under this root
    assert len(exported) == 8 and set(out) == set(ALL_KEYS) | set(exported)
    assert all(out[k][0] == "missing" for k in exported)
    assert out["oxford_pets"] == ["found", "train=10 val=9 test=7"]
    assert out["imagenet"] == ["found", "train=10 val=test test=7"]
    assert out["imagenet_r"] == ["found", "train=5 val=test test=5"]
    assert out["dtd"] == ["missing", str(root / "dtd" / "images")]
    assert out["eurosat"] == ["missing", str(root / "eurosat")]


def test_check_one_dataset_and_error_status(fresh_tree, capsys: pytest.CaptureFixture) -> None:
    root, _ = fresh_tree(["eurosat", "ucf101"])
    (root / "eurosat" / "split_zhou_EuroSAT.json").write_text("{broken")
    assert main(["datasets", "check", "--data-root", str(root), "--dataset", "eurosat", "--dataset", "ucf101"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:2] == ["eurosat", "error"] and "not a readable JSON split file" in lines[0]
    assert lines[1].split() == ["ucf101", "found", "train=10", "val=9", "test=7"]


def test_check_usage_errors(tmp_path, capsys: pytest.CaptureFixture) -> None:
    assert main(["datasets", "check", "--data-root", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["datasets", "check", "--data-root", str(tmp_path), "--dataset", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown dataset 'nope'; valid datasets:" in err and "oxford_pets" in err


def test_commands_module_does_not_import_torch() -> None:
    code = "import sys, comma_bench.data.commands; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
