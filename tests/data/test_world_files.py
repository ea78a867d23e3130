"""An exported built-in dataset is read back as files (`world-files/<name>`), and a data root that a built-in
dataset would ignore is refused instead of being recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from comma_bench.cli import main
from comma_bench.data import load_dataset
from comma_bench.engine.evaluate import evaluate
from comma_bench.methods import build
from comma_bench.world.datasets import get_world_dataset, render_item

PER_CLASS = 2


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "shapes"
    argv = ["world", "export", "--dataset", "world/shapes", "--to", str(out), "--max-per-class", str(PER_CLASS)]
    assert main(argv) == 0
    return out


def test_an_export_reads_back_as_files_with_the_world_templates(exported):
    files = load_dataset("world-files/shapes", exported, shots=1, subsample="all")
    ds = get_world_dataset("world/shapes")
    assert (files.template, files.kd_template) == (ds.template, ds.kd_template)
    assert files.classnames == list(ds.classnames) and not files.info.builtin
    assert len(files.test) == PER_CLASS * len(ds.classnames)
    rendered = load_dataset("world/shapes", shots=1, subsample="all").test[: len(files.test)]
    assert [(d.label, d.classname) for d in files.test] == [(d.label, d.classname) for d in rendered]
    for f, r in zip(files.test, rendered):  # PNG is lossless: the files hold the rendered pixels
        assert f.impath.endswith(".png") and np.array_equal(np.asarray(files.load_image(f)), render_item(r.impath))


def test_files_and_renderer_give_the_same_evaluation(exported, tiny_backbone):
    files = load_dataset("world-files/shapes", exported, shots=1, subsample="base")
    rendered = load_dataset("world/shapes", shots=1, subsample="base")
    method = build("zeroshot", tiny_backbone, files.classnames, template=files.template)
    kw = dict(image_size=tiny_backbone.image_size, mean=tiny_backbone.mean, std=tiny_backbone.std)
    same_items = rendered.test[: len(files.test)]
    assert evaluate(method, files.test, load_image=files.load_image, **kw) == evaluate(
        method, same_items, load_image=rendered.load_image, **kw
    )


def test_cli_eval_of_an_export_records_the_files_route(exported, tmp_path):
    out = tmp_path / "rec.json"
    argv = ["eval", "--dataset", "world-files/shapes", "--data-root", str(exported), "--output", str(out)]
    assert main([*argv, "--model", "test-tiny", "--pretrained", "none", "--quiet", "--shots", "1"]) == 0
    rec = json.loads(out.read_text())
    assert rec["config"]["dataset"] == "world-files/shapes" and rec["context"]["data_root"] == str(exported)
    assert rec["evals"][0]["n_images"] == PER_CLASS * 7  # base half of 13 classes


def test_a_data_root_a_built_in_dataset_would_ignore_is_refused(exported, tmp_path, capsys):
    argv = ["eval", "--dataset", "world/shapes", "--data-root", str(exported), "--output", str(tmp_path / "r.json")]
    assert main([*argv, "--model", "test-tiny", "--pretrained", "none", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "would be ignored" in err and "--dataset world-files/shapes --data-root" in err
    assert not (tmp_path / "r.json").exists()
