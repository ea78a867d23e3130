"""One run end to end on a generated CoOp-layout folder: the CLI, the record, resume, and the error paths."""

from __future__ import annotations

import json

import pytest
import torch

from comma_bench.cli import main
from comma_bench.config import OptimConfig, RunConfig
from comma_bench.config.schema import BackboneConfig
from comma_bench.engine.run import execute_run
from comma_bench.protocols.base2novel import harmonic_mean
from comma_bench.records import SCHEMA
from tests.data.coop_tree import build_coop_tree

TINY = ["--model", "test-tiny", "--pretrained", "none", "--quiet"]


@pytest.fixture(scope="module")
def coop_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("coop")
    build_coop_tree(root, ["oxford_pets", "eurosat", "caltech101", "imagenet_r"])
    return root


def test_cli_eval_zeroshot_writes_a_record(coop_root, tmp_path, capsys):
    out = tmp_path / "rec.json"
    rc = main(
        [
            "eval",
            "--method",
            "zeroshot",
            "--dataset",
            "oxford_pets",
            "--data-root",
            str(coop_root),
            "--protocol",
            "base2novel",
            "--seed",
            "1",
            "--output",
            str(out),
            *TINY,
        ]
    )
    assert rc == 0
    rec = json.loads(out.read_text())
    assert rec["schema"] == SCHEMA and rec["status"] == "finished" and rec["kind"] == "eval"
    base, new = rec["evals"]
    assert (base["subset"], base["n_classes"], base["n_images"]) == ("base", 2, 4)  # 3 classes: base 2, new 1
    assert (new["subset"], new["n_classes"], new["n_images"]) == ("new", 1, 3)
    assert new["accuracy"] == 100.0  # one class: every prediction is right
    m = rec["metrics"]
    assert m["hm"] == pytest.approx(harmonic_mean(m["base"], m["novel"]))
    assert rec["versions"]["torch"] == torch.__version__ and rec["trainable_params"] == 0
    assert "base=" in capsys.readouterr().out


def _config(root, **kw):
    base = dict(
        method="coop",
        dataset="oxford_pets",
        data_root=str(root),
        backbone=BackboneConfig(model="test-tiny", pretrained="none"),
        optim=OptimConfig(epochs=3, batch_size=2, lr=0.01),
    )
    base.update(kw)
    return RunConfig(**base)


def test_resume_from_checkpoint_continues_identically(coop_root, tmp_path):
    straight = execute_run(_config(coop_root), progress=False)
    ckpt = tmp_path / "ckpt"
    stop = {"after": 1}

    class Stop(Exception):
        pass

    def interrupt(epoch, info):
        if epoch == stop["after"]:
            raise Stop

    with pytest.raises(Stop):
        execute_run(_config(coop_root), checkpoint_dir=ckpt, progress=False, on_epoch=interrupt)
    resumed = execute_run(_config(coop_root), checkpoint_dir=ckpt, progress=False)
    assert resumed.train["resumed_from_epoch"] == 2
    assert resumed.train["loss_per_epoch"] == pytest.approx(straight.train["loss_per_epoch"], abs=1e-6)
    assert resumed.metrics == pytest.approx(straight.metrics)
    assert resumed.run_id == straight.run_id


def test_cross_dataset_trains_once_and_evaluates_every_target(coop_root):
    rec = execute_run(
        _config(
            coop_root,
            protocol="cross_dataset",
            targets=("eurosat", "caltech101"),
            optim=OptimConfig(epochs=1, batch_size=4),
        ),
        progress=False,
    )
    assert [e.dataset for e in rec.evals] == ["oxford_pets", "eurosat", "caltech101"]
    m = rec.metrics
    assert set(m) == {"source", "eurosat", "caltech101", "target_mean"}
    assert m["target_mean"] == pytest.approx((m["eurosat"] + m["caltech101"]) / 2)
    assert rec.train["steps"] == 2  # 9 few-shot train images / batch 4 with drop_last: trained once


def test_the_record_names_the_method_settings_off_the_official_defaults(coop_root):
    official = execute_run(_config(coop_root, optim=OptimConfig(epochs=1)), progress=False)
    assert official.method_deviations == {}  # CoOp's defaults are its base-to-novel config; epochs are no setting
    ctx16 = execute_run(
        _config(coop_root, method_config={"n_ctx": 16, "ctx_init": ""}, optim=OptimConfig(epochs=1)), progress=False
    )
    assert ctx16.method_deviations == {"ctx_init": "", "n_ctx": 16}
    written = json.loads(json.dumps(ctx16.to_json()))
    assert (
        written["method_deviations"] == {"ctx_init": "", "n_ctx": 16} and "method_deviations" not in written["config"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "oxford_pets", "--data-root", "/nonexistent/data"], "/nonexistent/data"),
        (["--dataset", "oxford_petz", "--data-root", "."], "unknown dataset 'oxford_petz'"),
        (["--dataset", "oxford_pets", "--data-root", "{root}", "--model", "ViT-Q-1"], "unknown model 'ViT-Q-1'"),
        (
            ["--dataset", "oxford_pets", "--data-root", "{root}", "--model", "ViT-B-16", "--pretrained", "openai"],
            "not available offline",
        ),
        (["--dataset", "sun397", "--data-root", "{root}"], "sun397"),
        (["--dataset", "oxford_pets", "--data-root", "{root}", "--set", "optim.lrr=1"], "unknown key"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args, message, coop_root, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    args = [a.replace("{root}", str(coop_root)) for a in args]
    model = [] if "--model" in args else ["--model", "test-tiny", "--pretrained", "none"]
    rc = main(["eval", *args, *model, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_corrupt_image_is_named(coop_root, tmp_path, capsys):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(coop_root / "eurosat", root / "eurosat")
    split = json.loads((root / "eurosat" / "split_zhou_EuroSAT.json").read_text())
    victim = root / "eurosat" / "2750" / split["test"][0][0]
    victim.write_bytes(b"not an image")
    rc = main(["eval", "--dataset", "eurosat", "--data-root", str(root), *TINY])
    err = capsys.readouterr().err
    assert rc == 2 and victim.name in err and len(err.strip().splitlines()) == 1


def test_a_cpu_run_of_precision_auto_is_the_fp32_run(coop_root):
    """The id hashes the precision the run computes in, so `auto` on a CPU and `fp32` are one run, bf16 another."""
    from comma_bench.config.resolve import resolved_config
    from comma_bench.records import run_id

    auto = execute_run(_config(coop_root, method="zeroshot", precision="auto", device="cpu"), progress=False)
    fp32 = execute_run(_config(coop_root, method="zeroshot", precision="fp32", device="cpu"), progress=False)
    assert auto.config.precision == fp32.config.precision == auto.resources["precision"] == "fp32"
    assert auto.run_id == fp32.run_id
    bf16 = run_id(resolved_config(_config(coop_root, method="zeroshot", precision="bf16")))
    assert bf16 != auto.run_id
