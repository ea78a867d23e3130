"""Each CoOp-format reader returns the items, order, labels and class names its official counterpart would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comma_bench.data import get_dataset_info, list_datasets, load_dataset
from comma_bench.data.coop_format import COOP_DATASETS
from comma_bench.errors import UserError
from tests.data.coop_tree import ALL_KEYS, DG_COUNTS, TEST_COUNTS, TRAIN_COUNTS, VAL_COUNTS

# key -> (CoOp config NAME, folder, zsclip template, COMMA kd template), CoOp's DATASETS.md and CUSTOM_TEMPLATES
TABLE = {
    "imagenet": ("ImageNet", "imagenet", "a photo of a {}.", "a photo of a {}."),
    "caltech101": ("Caltech101", "caltech-101", "a photo of a {}.", "a photo of a {}."),
    "oxford_pets": ("OxfordPets", "oxford_pets", "a photo of a {}, a type of pet.", "a photo of a {}, a type of pet."),
    "stanford_cars": ("StanfordCars", "stanford_cars", "a photo of a {}.", "a photo of a {}."),
    "oxford_flowers": (
        "OxfordFlowers",
        "oxford_flowers",
        "a photo of a {}, a type of flower.",
        "a photo of a {}, a type of flower.",
    ),
    "food101": ("Food101", "food-101", "a photo of {}, a type of food.", "a photo of {}, a type of food."),
    "fgvc_aircraft": (
        "FGVCAircraft",
        "fgvc_aircraft",
        "a photo of a {}, a type of aircraft.",
        "a photo of a {}, a type of aircraft.",
    ),
    "sun397": ("SUN397", "sun397", "a photo of a {}.", "a photo of a {}."),
    "dtd": ("DescribableTextures", "dtd", "{} texture.", "a photo of a {}, a type of texture."),
    "eurosat": ("EuroSAT", "eurosat", "a centered satellite photo of {}.", "a centered satellite photo of {}."),
    "ucf101": ("UCF101", "ucf101", "a photo of a person doing {}.", "a photo of a person doing {}."),
    "imagenetv2": ("ImageNetV2", "imagenetv2", "a photo of a {}.", "a photo of a {}."),
    "imagenet_sketch": ("ImageNetSketch", "imagenet-sketch", "a photo of a {}.", "a photo of a {}."),
    "imagenet_a": ("ImageNetA", "imagenet-adversarial", "a photo of a {}.", "a photo of a {}."),
    "imagenet_r": ("ImageNetR", "imagenet-rendition", "a photo of a {}.", "a photo of a {}."),
}
DG = {"imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r"}


def _rel(items, dataset_dir: Path) -> list[tuple[str, int]]:
    return [(Path(d.impath).relative_to(dataset_dir).as_posix(), d.label) for d in items]


def test_all_fifteen_registered_with_coop_names_and_templates() -> None:
    assert set(COOP_DATASETS) == set(TABLE) == set(ALL_KEYS)
    assert set(TABLE) <= set(list_datasets())
    for key, (name, folder, template, kd) in TABLE.items():
        info = get_dataset_info(key)
        assert (info.key, info.name, info.folder, info.template, info.kd_template) == (key, name, folder, template, kd)
        assert info.has_val == (key not in DG and key != "imagenet")
        assert not info.builtin
    assert get_dataset_info("imagenet_a").tags == ("dg_target",)
    assert "xd_target" in get_dataset_info("dtd").tags and "xd_target" not in get_dataset_info("imagenet").tags


@pytest.mark.parametrize("key", ALL_KEYS)
def test_reader_items_labels_and_order(coop_tree, key: str) -> None:
    root, expected = coop_tree
    exp = expected[key]
    info = get_dataset_info(key)
    raw = info.read(root / info.folder)
    dataset_dir = root / exp.folder
    assert _rel(raw.train, dataset_dir) == exp.train
    assert _rel(raw.val, dataset_dir) == exp.val
    assert _rel(raw.test, dataset_dir) == exp.test
    for item in raw.train + raw.test:
        assert Path(item.impath).is_absolute() and Path(item.impath).is_file()
        assert item.classname == exp.classnames[item.label]
    if key in DG:
        assert raw.train == raw.val == raw.test
        assert len(raw.test) == sum(DG_COUNTS)
    else:
        assert len(raw.train) == sum(TRAIN_COUNTS) and len(raw.test) == sum(TEST_COUNTS)
        assert len(raw.val) == (sum(TEST_COUNTS) if key == "imagenet" else sum(VAL_COUNTS))


@pytest.mark.parametrize("key", ALL_KEYS)
def test_load_all_shots_classnames_from_train(coop_tree, key: str) -> None:
    root, expected = coop_tree
    splits = load_dataset(key, root, shots=0)
    exp = expected[key]
    assert splits.classnames == exp.classnames
    assert splits.num_classes == 3
    assert splits.fewshot_source == ("test-only" if key in DG else "all")
    assert _rel(splits.train, root / exp.folder) == exp.train
    assert splits.template == TABLE[key][2] and splits.kd_template == TABLE[key][3]
    if not get_dataset_info(key).has_val:
        assert splits.val == splits.test


def test_classnames_keep_underscores_and_spaces(coop_tree) -> None:
    root, _ = coop_tree
    assert load_dataset("oxford_pets", root, shots=0).classnames[1] == "american_pit_bull_terrier"
    assert load_dataset("ucf101", root, shots=0).classnames[0] == "Apply_Eye_Makeup"
    assert load_dataset("fgvc_aircraft", root, shots=0).classnames == ["707-320", "Falcon 2000", "F-16A/B"]
    assert load_dataset("eurosat", root, shots=0).classnames[0] == "Annual Crop Land"


def test_stanford_cars_paths_relative_to_dataset_dir(coop_tree) -> None:
    root, _ = coop_tree
    raw = get_dataset_info("stanford_cars").read(root / "stanford_cars")
    assert Path(raw.train[0].impath) == root / "stanford_cars" / "cars_train" / "00001.jpg"
    assert Path(raw.test[0].impath) == root / "stanford_cars" / "cars_test" / "00001.jpg"


def test_special_images_decode_to_rgb(coop_tree) -> None:
    root, _ = coop_tree
    pets = load_dataset("oxford_pets", root, shots=0)
    gray = next(d for d in pets.train if d.label == 0)  # the builder writes it as a grayscale JPEG
    img = pets.load_image(gray)
    assert img.mode == "RGB" and img.size == (8, 8)
    r, g, b = img.getpixel((4, 4))
    assert r == g == b  # a grayscale JPEG becomes three equal channels
    dtd = load_dataset("dtd", root, shots=0)
    png = next(d for d in dtd.train if d.impath.endswith(".png"))
    img = dtd.load_image(png)
    assert img.mode == "RGB" and img.getpixel((4, 4)) == (40, 200, 60)  # alpha dropped, colour kept


def test_imagenet_ignores_hidden_files_and_preprocessed_pkl(fresh_tree) -> None:
    root, expected = fresh_tree(["imagenet"])
    (root / "imagenet" / "preprocessed.pkl").write_bytes(b"not a pickle at all")
    raw = get_dataset_info("imagenet").read(root / "imagenet")
    assert not any(Path(d.impath).name.startswith(".") for d in raw.train)
    assert _rel(raw.train, root / "imagenet") == expected["imagenet"].train


def test_imagenet_a_skips_readme_and_unlisted_folders(fresh_tree) -> None:
    root, _expected = fresh_tree(["imagenet_a"])
    (root / "imagenet-adversarial" / "imagenet-a" / "zz_not_a_wnid").mkdir()
    splits = load_dataset("imagenet_a", root)
    assert splits.classnames == ["goldfish", "tiger shark", "hammerhead"]
    assert len(splits.test) == sum(DG_COUNTS) and splits.train == splits.test  # test-only: shots do not apply


def test_imagenet_train_val_folders_must_match(fresh_tree) -> None:
    root, _ = fresh_tree(["imagenet"])
    (root / "imagenet" / "images" / "val" / "n01440764").rename(root / "imagenet" / "elsewhere")
    with pytest.raises(UserError, match="n01440764"):
        load_dataset("imagenet", root)


def test_imagenet_folder_not_in_classnames(fresh_tree) -> None:
    root, _ = fresh_tree(["imagenet"])
    (root / "imagenet" / "images" / "train" / "n09999999").mkdir()
    with pytest.raises(UserError, match=r"n09999999.*classnames\.txt"):
        load_dataset("imagenet", root)


def test_imagenetv2_missing_class_folder(fresh_tree) -> None:
    root, _ = fresh_tree(["imagenetv2"])
    folder = root / "imagenetv2" / "imagenetv2-matched-frequency-format-val" / "2"
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    with pytest.raises(UserError, match=str(folder)):
        load_dataset("imagenetv2", root)


def test_fgvc_unknown_variant_names_file_and_line(fresh_tree) -> None:
    root, _ = fresh_tree(["fgvc_aircraft"])
    path = root / "fgvc_aircraft" / "images_variant_val.txt"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].split(" ")[0] + " Concorde"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"images_variant_val\.txt:3: variant 'Concorde'"):
        load_dataset("fgvc_aircraft", root)


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda s: {"train": s["train"], "val": s["val"]}, "lists 'train', 'val' and 'test'"),
        (lambda s: {**s, "val": [["x.jpg", "0", "c"]]}, r"entry 0 of 'val'.*expected \[relpath, label, classname\]"),
        (lambda s: {**s, "test": [["x.jpg", True, "c"]]}, "entry 0 of 'test'"),
    ],
)
def test_malformed_split_json(fresh_tree, mutate, pattern: str) -> None:
    root, _ = fresh_tree(["eurosat"])
    path = root / "eurosat" / "split_zhou_EuroSAT.json"
    path.write_text(json.dumps(mutate(json.loads(path.read_text()))))
    with pytest.raises(UserError, match=pattern):
        load_dataset("eurosat", root)


def test_split_json_not_json(fresh_tree) -> None:
    root, _ = fresh_tree(["dtd"])
    path = root / "dtd" / "split_zhou_DescribableTextures.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="not a readable JSON split file") as err:
        load_dataset("dtd", root)
    assert str(path) in str(err.value)
