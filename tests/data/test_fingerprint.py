"""Split fingerprints: the same images give the same fingerprint whether they come from a Dassl pickle, our JSON
cache or the sampler, on any machine; other images or another class split give another one; run ids ignore it."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import pytest

from comma_bench.config import RunConfig
from comma_bench.config.schema import BackboneConfig
from comma_bench.data import Datum, get_dataset_info, load_dataset
from comma_bench.data.fewshot import cache_path, dassl_pickle_path, sample_fewshot
from comma_bench.data.fingerprint import SCHEME, class_halves, relative_impath, split_fingerprint
from comma_bench.engine.run import execute_run
from tests.data.test_dassl_pickle import FOREIGN_ROOT, _foreign, _write_pickle, dassl_datum  # noqa: F401

SHOTS, SEED = 2, 3


def test_known_value_of_a_hand_written_selection(tmp_path: Path) -> None:
    """The scheme as documented: sorted [relpath, label, classname], class halves, canonical JSON, SHA-256."""
    root = tmp_path / "pets"
    items = [
        Datum(str(root / "images" / "b.jpg"), 1, "beagle"),
        Datum(str(root / "images" / "a.jpg"), 0, "abyssinian"),
        Datum(str(root / "images" / "c.jpg"), 2, "chihuahua"),
    ]
    doc = {
        "scheme": SCHEME,
        "train": [["images/a.jpg", 0, "abyssinian"], ["images/b.jpg", 1, "beagle"], ["images/c.jpg", 2, "chihuahua"]],
        "base": ["abyssinian", "beagle"],
        "novel": ["chihuahua"],
    }
    expected = hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
    assert split_fingerprint(items, root) == expected
    assert split_fingerprint(items[::-1], root) == expected  # order-free
    assert class_halves(items) == (["abyssinian", "beagle"], ["chihuahua"])
    other_root = tmp_path / "elsewhere" / "pets"
    moved = [Datum(str(other_root / Path(d.impath).relative_to(root)), d.label, d.classname) for d in items]
    assert split_fingerprint(moved, other_root) == expected  # machine-independent
    assert relative_impath("world://shapes/3", None) == "world://shapes/3"


def test_another_image_or_another_label_changes_it(tmp_path: Path) -> None:
    root = tmp_path
    items = [Datum(str(root / "a.jpg"), 0, "x"), Datum(str(root / "b.jpg"), 1, "y")]
    fp = split_fingerprint(items, root)
    assert split_fingerprint([items[0], Datum(str(root / "c.jpg"), 1, "y")], root) != fp
    assert split_fingerprint([items[0], Datum(str(root / "b.jpg"), 1, "z")], root) != fp
    assert split_fingerprint([Datum(str(root / "a.jpg"), 1, "x"), Datum(str(root / "b.jpg"), 0, "y")], root) != fp


def test_dassl_pickle_and_json_cache_of_the_same_images_agree(fresh_tree, dassl_datum: type) -> None:  # noqa: F811
    root, _ = fresh_tree(["oxford_pets"])
    dataset_dir = root / "oxford_pets"
    sampled = load_dataset("oxford_pets", root, shots=SHOTS, seed=SEED, subsample="base")
    assert sampled.fewshot_source == "sampled" and len(sampled.split_fingerprint) == 16
    cached = load_dataset("oxford_pets", root, shots=SHOTS, seed=SEED, subsample="base")
    assert cached.fewshot_source == f"cache:{cache_path(dataset_dir, SHOTS, SEED)}"
    assert cached.split_fingerprint == sampled.split_fingerprint

    # The same images as a Dassl pickle written on another machine, listed in another order: same fingerprint.
    info = get_dataset_info("oxford_pets")
    raw = info.read(dataset_dir)
    train, val = sample_fewshot(raw.train, raw.val, SHOTS, SEED)
    pkl = dassl_pickle_path(dataset_dir, SHOTS, SEED)
    foreign = {
        "train": _foreign(train[::-1], root, FOREIGN_ROOT, dassl_datum),
        "val": _foreign(val, root, FOREIGN_ROOT, dassl_datum),
    }
    _write_pickle(pkl, foreign)
    from_pkl = load_dataset("oxford_pets", root, shots=SHOTS, seed=SEED, subsample="new")
    assert from_pkl.fewshot_source == f"dassl-pickle:{pkl}"
    assert from_pkl.split_fingerprint == sampled.split_fingerprint  # and the subsample does not enter it

    # A pickle that swaps one image for another of the same class: a different fingerprint.
    spare = next(d for d in raw.train if d.label == train[0].label and d not in train)
    swapped = [spare, *train[1:]]
    _write_pickle(pkl, {"train": _foreign(swapped, root, FOREIGN_ROOT, dassl_datum), "val": foreign["val"]})
    assert load_dataset("oxford_pets", root, shots=SHOTS, seed=SEED).split_fingerprint != sampled.split_fingerprint


def test_same_images_in_another_data_root_agree(fresh_tree, tmp_path: Path) -> None:
    root, _ = fresh_tree(["dtd"])
    first = load_dataset("dtd", root, shots=1, seed=1).split_fingerprint
    moved = tmp_path / "moved" / "DATA"
    shutil.copytree(root, moved)
    shutil.rmtree(moved / "dtd" / "split_fewshot")  # sampled again there, from the same files
    assert load_dataset("dtd", moved, shots=1, seed=1).split_fingerprint == first
    assert load_dataset("dtd", moved, shots=1, seed=2).split_fingerprint != first


@pytest.mark.parametrize("dataset", ["world/shapes"])
def test_builtin_dataset_fingerprint_depends_on_the_seed(dataset: str) -> None:
    a = load_dataset(dataset, shots=2, seed=1).split_fingerprint
    assert a == load_dataset(dataset, shots=2, seed=1, subsample="new").split_fingerprint
    assert a != load_dataset(dataset, shots=2, seed=2).split_fingerprint


def test_record_carries_it_and_the_run_id_ignores_it(fresh_tree, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = fresh_tree(["oxford_pets"])
    config = RunConfig(
        method="zeroshot",
        dataset="oxford_pets",
        data_root=str(root),
        shots=SHOTS,
        seed=SEED,
        backbone=BackboneConfig(model="test-tiny", pretrained="none"),
    )
    rec = execute_run(config, progress=False, use_cache=False)
    fp = load_dataset("oxford_pets", root, shots=SHOTS, seed=SEED).split_fingerprint
    assert rec.data["split_fingerprint"] == fp
    assert fp not in json.dumps(rec.config.model_dump(mode="json"))
    import comma_bench.engine.run as run_module

    monkeypatch.setattr(run_module, "load_dataset", _with_fingerprint(run_module.load_dataset, "0" * 16))
    again = execute_run(config, progress=False, use_cache=False)
    assert again.data["split_fingerprint"] == "0" * 16 and again.run_id == rec.run_id


def _with_fingerprint(load, value: str):
    import dataclasses

    def wrapped(*args, **kwargs):
        return dataclasses.replace(load(*args, **kwargs), split_fingerprint=value)

    return wrapped


def test_pickle_protocol_does_not_matter(fresh_tree, dassl_datum: type) -> None:  # noqa: F811
    root, _ = fresh_tree(["oxford_pets"])
    dataset_dir = root / "oxford_pets"
    raw = get_dataset_info("oxford_pets").read(dataset_dir)
    train, val = sample_fewshot(raw.train, raw.val, SHOTS, SEED)
    fps = set()
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        data = {
            "train": _foreign(train, root, FOREIGN_ROOT, dassl_datum),
            "val": _foreign(val, root, FOREIGN_ROOT, dassl_datum),
        }
        _write_pickle(dassl_pickle_path(dataset_dir, SHOTS, SEED), data, protocol)
        fps.add(load_dataset("oxford_pets", root, shots=SHOTS, seed=SEED).split_fingerprint)
    assert len(fps) == 1 and fps == {split_fingerprint(train, dataset_dir)}
