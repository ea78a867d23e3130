"""Dassl few-shot pickles are read safely (only Dassl's Datum is admitted) and rebased onto the local data root."""

from __future__ import annotations

import os
import pickle
import sys
import types
from pathlib import Path

import pytest

from comma_bench.data import Datum, get_dataset_info, load_dataset
from comma_bench.data.fewshot import dassl_pickle_path, read_dassl_pickle, rebase_impath, sample_fewshot
from comma_bench.errors import UserError

FOREIGN_ROOT = "/home/someone/DATA"  # where the machine that wrote the pickle kept $DATA


@pytest.fixture
def dassl_datum(monkeypatch: pytest.MonkeyPatch) -> type:
    """A stand-in `dassl.data.datasets.base_dataset.Datum`, importable by pickle under Dassl's module path."""

    class DasslDatum:
        def __init__(self, impath: str = "", label: int = 0, domain: int = 0, classname: str = "") -> None:
            self._impath = impath
            self._label = label
            self._domain = domain
            self._classname = classname

    DasslDatum.__module__ = "dassl.data.datasets.base_dataset"
    DasslDatum.__qualname__ = DasslDatum.__name__ = "Datum"
    names = ["dassl", "dassl.data", "dassl.data.datasets", "dassl.data.datasets.base_dataset"]
    for name in names:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["dassl.data.datasets.base_dataset"].Datum = DasslDatum
    return DasslDatum


def _foreign(items: list[Datum], local_root: Path, foreign_root: str, cls: type) -> list:
    """Our items as the Dassl objects another machine would have pickled (absolute paths under its own root)."""
    out = []
    for d in items:
        rel = Path(d.impath).relative_to(local_root).as_posix()
        out.append(cls(impath=f"{foreign_root}/{rel}", label=d.label, domain=0, classname=d.classname))
    return out


def _write_pickle(path: Path, obj: object, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=protocol))


@pytest.mark.parametrize("protocol", [2, 4, pickle.HIGHEST_PROTOCOL])  # CoOp writes HIGHEST_PROTOCOL (5 on py3.8+)
def test_crafted_dassl_pickle_yields_the_same_items(fresh_tree, dassl_datum: type, protocol: int) -> None:
    root, _ = fresh_tree(["oxford_pets"])
    info = get_dataset_info("oxford_pets")
    raw = info.read(root / info.folder)
    train, val = sample_fewshot(raw.train, raw.val, 2, 3)
    data = {
        "train": _foreign(train, root, FOREIGN_ROOT, dassl_datum),
        "val": _foreign(val, root, FOREIGN_ROOT, dassl_datum),
    }
    pkl = dassl_pickle_path(root / "oxford_pets", 2, 3)
    assert pkl == root / "oxford_pets" / "split_fewshot" / "shot_2-seed_3.pkl"
    _write_pickle(pkl, data, protocol)
    splits = load_dataset("oxford_pets", root, shots=2, seed=3)
    assert splits.fewshot_source == f"dassl-pickle:{pkl}"
    assert splits.train == train and splits.val == val
    assert not (root / "oxford_pets" / "split_fewshot" / "comma_bench").exists()  # nothing cached over it


def test_pickle_subset_wins_over_sampling(fresh_tree, dassl_datum: type) -> None:
    """The pickle of an official run decides the subset even where our sampler would draw another one."""
    root, _ = fresh_tree(["dtd"])
    raw = get_dataset_info("dtd").read(root / "dtd")
    chosen = [raw.train[3], raw.train[0], raw.train[2]]
    _write_pickle(
        dassl_pickle_path(root / "dtd", 1, 1),
        {
            "train": _foreign(chosen, root, "C:/data", dassl_datum),
            "val": _foreign(raw.val[:2], root, "/d", dassl_datum),
        },
    )
    splits = load_dataset("dtd", root, shots=1, seed=1, subsample="base")
    assert [Path(d.impath).name for d in splits.train] == [Path(d.impath).name for d in chosen if d.label < 2]


def test_imagenet_pickle_has_only_train(fresh_tree, dassl_datum: type) -> None:
    root, _ = fresh_tree(["imagenet"])
    raw = get_dataset_info("imagenet").read(root / "imagenet")
    train, _ = sample_fewshot(raw.train, raw.val, 1, 2, sample_val=False)
    _write_pickle(dassl_pickle_path(root / "imagenet", 1, 2), {"train": _foreign(train, root, "/mnt/x", dassl_datum)})
    splits = load_dataset("imagenet", root, shots=1, seed=2)
    assert splits.train == train and splits.val == splits.test == raw.test


def test_windows_paths_and_renamed_dataset_folder(fresh_tree) -> None:
    root, _ = fresh_tree(["oxford_pets"])
    dataset_dir = root / "oxford_pets"
    target = dataset_dir / "images" / "basset_hound_3.jpg"
    assert target.is_file()
    src = Path("x.pkl")
    assert rebase_impath(r"D:\data\oxford_pets\images\basset_hound_3.jpg", dataset_dir, ["images"], source=src) == str(
        target
    )
    # the other machine called the folder "pets": fall back to the images dir
    assert rebase_impath("/srv/pets/images/basset_hound_3.jpg", dataset_dir, ["images"], source=src) == str(target)
    with pytest.raises(UserError, match=r"x\.pkl: cannot place '/srv/pets/jpgs/a\.jpg'"):
        rebase_impath("/srv/pets/jpgs/a.jpg", dataset_dir, ["images"], source=src)
    with pytest.raises(UserError, match="does not exist; the pickle was written for a different copy"):
        rebase_impath("/srv/oxford_pets/images/missing.jpg", dataset_dir, ["images"], source=src)


def test_pickle_image_missing_locally(fresh_tree, dassl_datum: type) -> None:
    root, _ = fresh_tree(["eurosat"])
    ghost = dassl_datum(impath="/far/eurosat/2750/Forest/Forest_999.jpg", label=1, domain=0, classname="Forest")
    pkl = dassl_pickle_path(root / "eurosat", 1, 1)
    _write_pickle(pkl, {"train": [ghost], "val": []})
    with pytest.raises(UserError, match=r"Forest_999\.jpg.*does not exist") as err:
        load_dataset("eurosat", root, shots=1, seed=1)
    assert str(pkl) in str(err.value) and "\n" not in str(err.value)


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_rejected_without_running(fresh_tree, tmp_path: Path) -> None:
    root, _ = fresh_tree(["oxford_pets"])
    marker = tmp_path / "pwned"
    pkl = dassl_pickle_path(root / "oxford_pets", 4, 1)
    _write_pickle(pkl, {"train": [_Exploit(marker)], "val": []})
    with pytest.raises(
        UserError, match=r"not a plain Dassl few-shot pickle \(refusing to load global (posix|nt)\.system\)"
    ) as err:
        load_dataset("oxford_pets", root, shots=4, seed=1)
    assert str(pkl) in str(err.value)
    assert not marker.exists()


def test_other_classes_and_bad_shapes_are_rejected(fresh_tree, dassl_datum: type) -> None:
    from collections import OrderedDict

    root, _ = fresh_tree(["oxford_pets"])
    dataset_dir = root / "oxford_pets"
    pkl = dassl_pickle_path(dataset_dir, 1, 1)
    _write_pickle(pkl, OrderedDict(train=[], val=[]))
    with pytest.raises(UserError, match=r"refusing to load global collections\.OrderedDict"):
        read_dassl_pickle(pkl, dataset_dir=dataset_dir)
    _write_pickle(pkl, {"train": ["just a string"], "val": []})
    with pytest.raises(UserError, match="holds a str; expected Dassl Datum objects"):
        read_dassl_pickle(pkl, dataset_dir=dataset_dir)
    _write_pickle(pkl, {"train": []})
    with pytest.raises(UserError, match="expected a dict with list"):
        read_dassl_pickle(pkl, dataset_dir=dataset_dir, need_val=True)
    _write_pickle(pkl, {"train": [dassl_datum(impath=5, label="x")], "val": []})
    with pytest.raises(UserError, match="lacks str _impath"):
        read_dassl_pickle(pkl, dataset_dir=dataset_dir)
    pkl.write_bytes(b"\x80\x05garbage")
    with pytest.raises(UserError, match="not a readable Dassl few-shot pickle"):
        read_dassl_pickle(pkl, dataset_dir=dataset_dir)
