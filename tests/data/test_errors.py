"""Every bad-input path is a one-line UserError that names the path or key at fault."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from comma_bench.data import get_dataset_info, load_dataset
from comma_bench.data.paths import MissingPathError
from comma_bench.errors import UserError
from tests.data.coop_tree import ALL_KEYS

# key -> (split file or list, images dir) as laid out in the tree: the first two required paths
REQUIRED = {
    "caltech101": ("split_zhou_Caltech101.json", "101_ObjectCategories"),
    "oxford_pets": ("split_zhou_OxfordPets.json", "images"),
    "stanford_cars": ("split_zhou_StanfordCars.json", "cars_train"),
    "oxford_flowers": ("split_zhou_OxfordFlowers.json", "jpg"),
    "food101": ("split_zhou_Food101.json", "images"),
    "sun397": ("split_zhou_SUN397.json", "SUN397"),
    "dtd": ("split_zhou_DescribableTextures.json", "images"),
    "eurosat": ("split_zhou_EuroSAT.json", "2750"),
    "ucf101": ("split_zhou_UCF101.json", "UCF-101-midframes"),
    "fgvc_aircraft": ("variants.txt", "images"),
    "imagenet": ("classnames.txt", "images/train"),
    "imagenetv2": ("classnames.txt", "imagenetv2-matched-frequency-format-val"),
    "imagenet_sketch": ("classnames.txt", "images"),
    "imagenet_a": ("classnames.txt", "imagenet-a"),
    "imagenet_r": ("classnames.txt", "imagenet-r"),
}


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_missing_root() -> None:
    with pytest.raises(UserError, match=r"dataset 'dtd' needs a data root: pass --data-root DIR") as err:
        load_dataset("dtd")
    _one_line(err)


def test_root_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist or is not a directory") as err:
        load_dataset("dtd", tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in _one_line(err)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_missing_dataset_dir(tmp_path: Path, key: str) -> None:
    with pytest.raises(MissingPathError) as err:
        load_dataset(key, tmp_path)
    assert err.value.path == tmp_path / get_dataset_info(key).folder
    assert str(tmp_path / get_dataset_info(key).folder) in _one_line(err)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_missing_split_file_then_images_dir(fresh_tree, key: str) -> None:
    root, expected = fresh_tree([key])
    dataset_dir = root / expected[key].folder
    split_file, image_dir = REQUIRED[key]
    (dataset_dir / split_file).unlink()
    shutil.rmtree(dataset_dir / image_dir)
    with pytest.raises(MissingPathError) as err:
        load_dataset(key, root)
    assert err.value.path == dataset_dir / split_file  # the first missing path is reported
    assert str(dataset_dir / split_file) in _one_line(err)
    (dataset_dir / split_file).write_text("")  # content does not matter: the images dir is checked first
    with pytest.raises(MissingPathError) as err:
        load_dataset(key, root)
    assert err.value.path == dataset_dir / image_dir


def test_missing_path_error_survives_pickling(tmp_path: Path) -> None:
    import pickle

    with pytest.raises(MissingPathError) as err:
        load_dataset("sun397", tmp_path)
    copy = pickle.loads(pickle.dumps(err.value))
    assert isinstance(copy, UserError) and copy.path == err.value.path and str(copy) == str(err.value)


def test_missing_listed_image(fresh_tree) -> None:
    root, _ = fresh_tree(["oxford_flowers"])
    victim = root / "oxford_flowers" / "jpg" / "image_00012.jpg"
    victim.unlink()
    with pytest.raises(MissingPathError, match=r"split_zhou_OxfordFlowers\.json \('val' entry 1\)") as err:
        load_dataset("oxford_flowers", root)
    assert err.value.path == victim


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(UserError) as err:
        load_dataset("imagenet-1k")
    msg = _one_line(err)
    assert msg.startswith("unknown dataset 'imagenet-1k'; valid datasets: ")
    for key in ALL_KEYS:
        assert key in msg


def test_corrupt_image_through_splits(fresh_tree) -> None:
    root, _ = fresh_tree(["food101"])
    splits = load_dataset("food101", root, shots=0)
    Path(splits.test[0].impath).write_bytes(b"\x89PNG garbage")
    with pytest.raises(UserError, match="not a readable image") as err:
        splits.load_image(splits.test[0])
    assert splits.test[0].impath in _one_line(err)
