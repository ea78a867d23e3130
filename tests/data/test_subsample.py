"""Base/new class split (CoOp's `subsample_classes`): sorted train labels, m = ceil(n/2), relabel 0..k-1, class names
follow."""

from __future__ import annotations

import math

import pytest

from comma_bench.data import Datum, load_dataset
from comma_bench.data.subsample import classnames_from, subsample_classes
from comma_bench.errors import UserError


def coop_subsample(*args, subsample: str):
    """CoOp's `OxfordPets.subsample_classes`, written out as it behaves."""
    if subsample == "all":
        return list(args)
    labels = sorted({item.label for item in args[0]})
    m = math.ceil(len(labels) / 2)
    selected = labels[:m] if subsample == "base" else labels[m:]
    relabeler = {y: y_new for y_new, y in enumerate(selected)}
    return [[Datum(i.impath, relabeler[i.label], i.classname) for i in d if i.label in selected] for d in args]


def make(labels: list[int]) -> list[Datum]:
    return [Datum(f"/img/{i}.jpg", y, f"class_{y}") for i, y in enumerate(labels)]


@pytest.mark.parametrize("subsample", ["all", "base", "new"])
def test_matches_coop_on_odd_class_count(subsample: str) -> None:
    train = make([4, 0, 2, 6, 1, 3, 5, 0, 6])  # 7 classes -> base 0..3, new 4..6
    val = make([6, 5, 4, 3, 2, 1, 0])
    test = make([0, 1, 2, 3, 4, 5, 6, 6])
    ours = subsample_classes(train, val, test, subsample=subsample)
    assert ours == coop_subsample(train, val, test, subsample=subsample)
    if subsample == "base":
        assert sorted({d.label for d in ours[0]}) == [0, 1, 2, 3]
        assert classnames_from(ours[0], source="t") == ["class_0", "class_1", "class_2", "class_3"]
    if subsample == "new":
        assert [d.label for d in ours[0]] == [0, 2, 1, 2]  # 4->0, 6->2, 5->1, 6->2
        assert classnames_from(ours[0], source="t") == ["class_4", "class_5", "class_6"]


def test_halves_follow_train_labels_not_test() -> None:
    train = make([0, 2, 4])  # labels 1 and 3 absent from train: n = 3, base = {0, 2}, new = {4}
    test = make([0, 1, 2, 3, 4])
    _base_train, base_test = subsample_classes(train, test, subsample="base")
    assert [d.classname for d in base_test] == ["class_0", "class_2"] and [d.label for d in base_test] == [0, 1]
    _, new_test = subsample_classes(train, test, subsample="new")
    assert [(d.label, d.classname) for d in new_test] == [(0, "class_4")]


def test_on_tree_three_classes(coop_tree) -> None:
    root, _expected = coop_tree
    base = load_dataset("caltech101", root, shots=2, seed=1, subsample="base")
    new = load_dataset("caltech101", root, shots=2, seed=1, subsample="new")
    assert base.classnames == ["accordion", "airplane"] and new.classnames == ["face"]
    assert {d.label for d in base.test} == {0, 1} and {d.label for d in new.test} == {0}
    assert len(base.test) + len(new.test) == 7
    assert all(d.classname == "face" for d in new.train + new.val + new.test)
    # ImageNet: val stays the (subsampled) test split
    inet = load_dataset("imagenet", root, shots=1, seed=1, subsample="new")
    assert inet.classnames == ["great white shark"] and inet.val == inet.test and len(inet.test) == 3


def test_classnames_errors() -> None:
    with pytest.raises(UserError, match="label 0 has two class names"):
        classnames_from([Datum("/a", 0, "x"), Datum("/b", 0, "y")], source="ds")
    with pytest.raises(UserError, match="label 1 has no train image"):
        classnames_from([Datum("/a", 0, "x"), Datum("/b", 2, "y")], source="ds")
    with pytest.raises(UserError, match="ds: the train split is empty"):
        classnames_from([], source="ds")


def test_unknown_subsample(coop_tree) -> None:
    root, _ = coop_tree
    with pytest.raises(UserError, match="unknown subsample 'novel'; valid subsamples: all, base, new"):
        load_dataset("dtd", root, subsample="novel")
