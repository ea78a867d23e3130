"""`world export` writes real PNG files in the CoOp layout that the CoOp split_zhou reader reads back unchanged."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from comma_bench.cli import main
from comma_bench.data.coop_format import read_split_json
from comma_bench.world.datasets import get_world_dataset, items, render_item


def test_export_round_trips_through_the_coop_reader(tmp_path):
    out = tmp_path / "badges"
    assert main(["world", "export", "--dataset", "world/badges", "--to", str(out), "--max-per-class", "2"]) == 0
    split_file = out / "split_zhou_WorldBadges.json"
    text = split_file.read_text()
    assert text.startswith('{\n    "train": [\n        [\n')  # json.dumps(..., indent=4), as CoOp writes them
    raw = read_split_json(split_file, out / "images")
    ds = get_world_dataset("world/badges")
    n = len(ds.classnames)
    for part in ("train", "val", "test"):
        exported = getattr(raw, part)
        source = items(ds, part)[: 2 * n]
        assert [(d.label, d.classname) for d in exported] == [(d.label, d.classname) for d in source]
        for e, s in zip(exported[:: n // 2], source[:: n // 2]):
            assert np.array_equal(
                np.asarray(Image.open(e.impath).convert("RGB")), render_item(s.impath)
            )  # PNG lossless
    entry = json.loads(text)["test"][0]
    assert entry == [f"{ds.classnames[0]}/test_0.png", 0, ds.classnames[0]]


def test_export_of_a_test_only_variant_lists_one_set_under_every_key(tmp_path):
    out = tmp_path / "sketch"
    assert main(["world", "export", "--dataset", "world/objects-sketch", "--to", str(out), "--max-per-class", "1"]) == 0
    split = json.loads((out / "split_zhou_WorldObjectsSketch.json").read_text())
    assert split["train"] == split["val"] == split["test"] and len(split["test"]) == 100
    assert len(list((out / "images").rglob("*.png"))) == 100


def test_export_errors_are_one_line_user_errors(tmp_path, capsys):
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert main(["world", "export", "--dataset", "world/nope", "--to", str(tmp_path / "x")]) == 2
    assert "unknown built-in dataset 'world/nope'" in capsys.readouterr().err
    assert main(["world", "export", "--dataset", "world/shapes", "--to", str(afile)]) == 2
    assert "expected a directory" in capsys.readouterr().err
    assert main(["world", "export", "--dataset", "world/shapes", "--to", str(tmp_path), "--max-per-class", "0"]) == 2


def test_show_writes_a_grid_with_one_row_per_class(tmp_path):
    out = tmp_path / "grid.png"
    assert main(["world", "show", "--dataset", "world/patterns", "--out", str(out), "--per-class", "3"]) == 0
    assert Image.open(out).size == (3 * 34 * 3, 12 * 34 * 3)
