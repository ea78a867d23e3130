"""Few-shot sampling equals Dassl's algorithm run with the global `random.seed`, and the JSON cache round-trips."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from comma_bench.data import DatasetInfo, Datum, RawSplits, get_dataset_info, load_dataset
from comma_bench.data import registry as registry_module
from comma_bench.data.fewshot import cache_path, read_cache, sample_fewshot, write_cache
from comma_bench.errors import UserError


def dassl_fewshot(data_source: list, num_shots: int) -> list:
    """Dassl's `generate_fewshot_dataset(data_source, num_shots=K)` (repeat=False), written out as it behaves."""
    tracker = defaultdict(list)
    for item in data_source:
        tracker[item.label].append(item)
    dataset = []
    for _label, items in tracker.items():
        dataset.extend(random.sample(items, num_shots) if len(items) >= num_shots else items)
    return dataset


def dassl_reference(train: list, val: list, shots: int, seed: int, *, sample_val: bool = True) -> tuple[list, list]:
    """What a CoOp dataset constructor draws right after `set_random_seed(seed)`."""
    state = random.getstate()
    try:
        random.seed(seed)
        train_k = dassl_fewshot(train, shots)
        val_k = dassl_fewshot(val, min(shots, 4)) if sample_val else val
    finally:
        random.setstate(state)
    return train_k, val_k


def synthetic(n_labels: int, per_label: list[int], order_seed: int) -> list[Datum]:
    items = [Datum(f"/x/{y}_{i}.jpg", y, f"c{y}") for y in range(n_labels) for i in range(per_label[y])]
    random.Random(order_seed).shuffle(items)  # labels interleaved: grouping must follow first appearance
    return items


@pytest.mark.parametrize("shots", [1, 2, 4, 8, 16])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sampler_equals_dassl_on_synthetic_lists(shots: int, seed: int) -> None:
    train = synthetic(7, [30, 3, 17, 1, 16, 40, 9], order_seed=seed)
    val = synthetic(7, [10, 2, 5, 1, 4, 12, 3], order_seed=seed + 10)
    ours = sample_fewshot(train, val, shots, seed)
    assert ours == dassl_reference(train, val, shots, seed)
    # val gets min(K, 4) per class
    per_label = defaultdict(int)
    for d in ours[1]:
        per_label[d.label] += 1
    assert per_label[5] == min(shots, 4)
    assert per_label[3] == 1  # a one-image class keeps its image


def test_sampler_does_not_touch_global_random_state() -> None:
    random.seed(123)
    before = random.getstate()
    sample_fewshot(synthetic(3, [5, 5, 5], 0), synthetic(3, [5, 5, 5], 1), 2, 7)
    assert random.getstate() == before


def test_group_order_is_first_appearance_not_sorted() -> None:
    items = [Datum("/a", 2, "c2"), Datum("/b", 0, "c0"), Datum("/c", 2, "c2"), Datum("/d", 0, "c0")]
    train, _ = sample_fewshot(items, [], 1, 5)
    assert [d.label for d in train] == [2, 0]


@pytest.mark.parametrize("key", ["oxford_pets", "stanford_cars", "fgvc_aircraft", "dtd", "imagenet"])
@pytest.mark.parametrize(("shots", "seed"), [(2, 1), (16, 3)])
def test_load_dataset_equals_dassl_on_tree(fresh_tree, key: str, shots: int, seed: int) -> None:
    root, _ = fresh_tree([key])
    info = get_dataset_info(key)
    raw = info.read(root / info.folder)
    want_train, want_val = dassl_reference(raw.train, raw.val, shots, seed, sample_val=info.has_val)
    splits = load_dataset(key, root, shots=shots, seed=seed)
    assert splits.fewshot_source == "sampled"
    assert splits.train == want_train
    assert splits.val == want_val
    assert splits.test == raw.test
    if key == "imagenet":
        assert splits.val == splits.test  # no val split: val is the (unsampled) test split
    else:
        counts = defaultdict(int)
        for d in splits.val:
            counts[d.label] += 1
        assert counts[0] == min(shots, 4)  # label 0 has 6 val images in the tree


def test_json_cache_round_trip(fresh_tree) -> None:
    root, _ = fresh_tree(["oxford_pets", "imagenet"])
    first = load_dataset("oxford_pets", root, shots=2, seed=5)
    path = cache_path(root / "oxford_pets", 2, 5)
    assert path == root / "oxford_pets" / "split_fewshot" / "comma_bench" / "shot_2-seed_5.json"
    obj = json.loads(path.read_text())
    assert obj["schema"] == "comma-bench/fewshot/1" and obj["shots"] == 2 and obj["seed"] == 5
    assert obj["train"][0][0] == Path(first.train[0].impath).relative_to(root / "oxford_pets").as_posix()
    assert all(not Path(rel).is_absolute() and rel.startswith("images/") for rel, _, _ in obj["train"] + obj["val"])
    second = load_dataset("oxford_pets", root, shots=2, seed=5)
    assert second.fewshot_source == f"cache:{path}"
    assert (second.train, second.val, second.test) == (first.train, first.val, first.test)
    # ImageNet caches only train (its val is the test split)
    load_dataset("imagenet", root, shots=1, seed=1)
    obj = json.loads(cache_path(root / "imagenet", 1, 1).read_text())
    assert obj["val"] is None and len(obj["train"]) == 3
    again = load_dataset("imagenet", root, shots=1, seed=1)
    assert again.fewshot_source.startswith("cache:") and again.val == again.test


def test_cache_is_used_as_written(fresh_tree) -> None:
    """A cache holding a different subset wins over resampling: the subset of a run is what the file says."""
    root, _ = fresh_tree(["eurosat"])
    raw = get_dataset_info("eurosat").read(root / "eurosat")
    chosen_train = [raw.train[-1], raw.train[0], raw.train[1], raw.train[2]]
    write_cache(
        cache_path(root / "eurosat", 2, 9), root / "eurosat", key="eurosat", shots=2, seed=9,
        train=chosen_train, val=raw.val[:3],
    )  # fmt: skip
    splits = load_dataset("eurosat", root, shots=2, seed=9)
    assert splits.train == chosen_train and splits.val == raw.val[:3]


def test_cache_errors(fresh_tree) -> None:
    root, _ = fresh_tree(["eurosat"])
    load_dataset("eurosat", root, shots=1, seed=1)
    path = cache_path(root / "eurosat", 1, 1)
    obj = json.loads(path.read_text())
    with pytest.raises(UserError, match="expected 2/1"):
        read_cache(path, root / "eurosat", shots=2, seed=1)
    obj["train"][0][0] = "2750/Forest/nope.jpg"
    path.write_text(json.dumps(obj))
    with pytest.raises(UserError, match=r"nope\.jpg.*delete the file to resample"):
        load_dataset("eurosat", root, shots=1, seed=1)
    path.write_text("[1, 2")
    with pytest.raises(UserError, match="not a readable few-shot cache"):
        load_dataset("eurosat", root, shots=1, seed=1)


def test_read_only_tree_still_samples(fresh_tree, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = fresh_tree(["dtd"])

    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr("comma_bench.records.write_json_atomic", refuse)
    splits = load_dataset("dtd", root, shots=2, seed=1)
    assert splits.fewshot_source == "sampled" and len(splits.train) == 5
    assert not cache_path(root / "dtd", 2, 1).exists()


def test_builtin_dataset_needs_no_root_and_is_not_cached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from PIL import Image

    items = [Datum(f"fake://{y}/{i}", y, f"shape_{y}") for i in range(6) for y in range(3)]
    rendered = []

    def render(impath: str) -> Image.Image:
        rendered.append(impath)
        return Image.new("RGB", (4, 4), (int(impath.split("/")[2]) * 60, 0, 0))

    info = DatasetInfo(
        key="world/test_fake",
        name="Fake",
        folder="",
        template="a {}.",
        kd_template="a {}!",
        read=lambda _path: RawSplits(train=items, val=items[:9], test=items),
        builtin=True,
        image_loader=render,
    )
    registry_module.register_dataset(info)
    request.addfinalizer(lambda: registry_module.DATASETS.remove(info.key))
    monkeypatch.chdir(tmp_path)
    splits = load_dataset("world/test_fake", shots=4, seed=2, subsample="new")
    want_train, _want_val = dassl_reference(items, items[:9], 4, 2)
    assert [d.impath for d in splits.train] == [d.impath for d in want_train if d.label == 2]
    assert splits.classnames == ["shape_2"] and {d.label for d in splits.test} == {0}
    assert splits.dataset_dir is None and splits.fewshot_source == "sampled"
    assert splits.load_image(splits.test[0]).getpixel((0, 0)) == (120, 0, 0)
    assert rendered == ["fake://2/0"]
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere


def test_shots_zero_or_negative_keeps_all(coop_tree) -> None:
    root, _expected = coop_tree
    for shots in (0, -1):
        splits = load_dataset("food101", root, shots=shots)
        assert len(splits.train) == 10 and len(splits.val) == 9 and splits.fewshot_source == "all"


def test_bad_shots_type(coop_tree) -> None:
    root, _ = coop_tree
    with pytest.raises(UserError, match="shots and seed must be integers"):
        load_dataset("food101", root, shots="16")  # type: ignore[arg-type]
