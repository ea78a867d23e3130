"""Node-local caches shared by every run of a sweep: decoded test images and unprompted image features.

Why: a base-to-novel sweep evaluates the same test split once per (method, seed); decoding and resizing thousands
of JPEGs every time, and running the frozen image tower again for methods that never prompt it (zero-shot CLIP,
CoOp, CoCoOp's image features), is work that cannot change a number. Both caches are exact: the cached tensors are
bit-identical to the uncached path (tests/engine/test_cache.py). Keys name the dataset folder, every item (path,
label) and every image file's identity (size, mtime_ns, ctime_ns, inode), so an image replaced on disk is decoded
again (and a corrupt one raises) instead of being served from an entry built from the old pixels.

- **Decoded images** (`images/<key>/`): the test transform's resize + centre crop produce a uint8 PIL image; we
  store those bytes as one memory-mapped `[N, S, S, 3]` uint8 array and apply ToTensor + Normalize on read, which is
  exactly what the uncached transform does after the crop.
- **Image features** (`features/<key>/`): `[N, E]` float32 features of the frozen image tower, computed with the
  same batch size as the uncached evaluation, for backbones with identifiable weights (a tag, a file, builtin).

Location: `$COMMA_BENCH_CACHE` or `~/.cache/comma_bench`. Size limit: `$COMMA_BENCH_CACHE_MAX_GB` (default 20);
least recently used entries are evicted when a new entry would exceed it. `COMMA_BENCH_CACHE=off` disables both.
Entries are built in a temporary directory and renamed into place under a file lock, so concurrent runs (Ray trials
on one node) never see a half-written entry and never build the same entry twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock
from PIL import Image

from comma_bench.data.datum import Datum

DEFAULT_MAX_GB = 20.0


def cache_root() -> Path | None:
    """The cache directory, or None when caching is disabled."""
    env = os.environ.get("COMMA_BENCH_CACHE", "")
    if env.lower() in ("off", "0", "false", "no"):
        return None
    return Path(env).expanduser() if env else Path.home() / ".cache" / "comma_bench"


def max_bytes() -> int:
    return int(float(os.environ.get("COMMA_BENCH_CACHE_MAX_GB", DEFAULT_MAX_GB)) * 2**30)


def digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:24]


def file_identity(impath: str) -> str:
    """Size, mtime_ns, ctime_ns and inode of an image file; "" for a built-in (`world://`) address.

    A replaced image (a re-downloaded or corrupted file) changes at least one of these, so it never hits an entry
    built from the old pixels. ctime cannot be set back by a copy tool that preserves mtime. A missing file has no
    identity: it gets a key of its own, and decoding it raises as it would without the cache.
    """
    if "://" in impath:
        return ""
    try:
        st = os.stat(impath)
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def items_digest(items: Sequence[Datum]) -> str:
    """Hash of the items' paths, labels and file identities: the part of a cache key that names the pixels."""
    h = hashlib.sha256()
    for d in items:
        h.update(f"{d.impath}\0{d.label}\0{file_identity(d.impath)}\n".encode())
    return h.hexdigest()[:24]


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def evict(root: Path, incoming: int, limit: int | None = None) -> list[Path]:
    """Remove least recently used entries until `incoming` more bytes fit under the limit."""
    limit = max_bytes() if limit is None else limit
    entries = [p for kind in ("images", "features") for p in (root / kind).glob("[!.]*") if p.is_dir()]
    sizes = {p: _dir_size(p) for p in entries}
    total = sum(sizes.values())
    removed = []
    for p in sorted(entries, key=lambda q: (q / "meta.json").stat().st_mtime if (q / "meta.json").exists() else 0):
        if total + incoming <= limit:
            break
        shutil.rmtree(p, ignore_errors=True)
        total -= sizes[p]
        removed.append(p)
    return removed


def _build_entry(root: Path, kind: str, key: str, build: Callable[[Path], dict]) -> Path:
    """Return the entry directory, building it once (under a lock, in a temp dir, renamed into place)."""
    final = root / kind / key
    if (final / "meta.json").exists():
        os.utime(final / "meta.json")  # LRU: mark as used
        return final
    (root / "locks").mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / "locks" / f"{kind}-{key}.lock")):
        if (final / "meta.json").exists():
            return final
        (root / kind).mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root / kind))
        try:
            meta = build(tmp)
            evict(root, _dir_size(tmp))
            (tmp / "meta.json").write_text(json.dumps(meta))
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


class DecodedImages(torch.utils.data.Dataset):
    """`(tensor [3, S, S], label)` from cached uint8 crops: ToTensor + Normalize applied on read."""

    def __init__(self, pixels: np.ndarray, labels: Sequence[int], mean, std) -> None:
        from torchvision import transforms as T

        self.pixels = pixels  # [N, S, S, 3] uint8, memory-mapped
        self.labels = list(labels)
        self.normalize = T.Normalize(mean=list(mean), std=list(std))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        img = torch.from_numpy(np.array(self.pixels[index])).permute(2, 0, 1).contiguous()  # [3, S, S] uint8
        return self.normalize(img.to(torch.float32).div(255)), self.labels[index]


def decoded_test_images(
    items: Sequence[Datum],
    load_image: Callable[[Datum], Image.Image],
    image_size: int,
    mean,
    std,
    *,
    source_id: str,
) -> DecodedImages | None:
    """The test split as cached uint8 crops, or None when caching is disabled."""
    root = cache_root()
    if root is None:
        return None
    from torchvision import transforms as T
    from torchvision.transforms import InterpolationMode

    crop = T.Compose([T.Resize(image_size, interpolation=InterpolationMode.BICUBIC), T.CenterCrop(image_size)])
    key = digest({"source": source_id, "items": items_digest(items), "size": image_size, "t": "resize-bicubic-cc"})

    def build(tmp: Path) -> dict:
        arr = np.lib.format.open_memmap(
            tmp / "pixels.npy", mode="w+", dtype=np.uint8, shape=(len(items), image_size, image_size, 3)
        )
        for i, d in enumerate(items):
            arr[i] = np.asarray(crop(load_image(d)), dtype=np.uint8)
        arr.flush()
        del arr
        return {"n": len(items), "size": image_size, "source": source_id, "created": time.time()}

    entry = _build_entry(root, "images", key, build)
    pixels = np.load(entry / "pixels.npy", mmap_mode="r")
    return DecodedImages(pixels, [d.label for d in items], mean, std)


def cached_image_features(
    key_fields: dict,
    compute: Callable[[], torch.Tensor],
) -> torch.Tensor:
    """[N, E] features from the cache, computing and storing them on a miss (caching disabled: just compute)."""
    root = cache_root()
    if root is None:
        return compute()
    key = digest(key_fields)

    def build(tmp: Path) -> dict:
        feats = compute().detach().cpu().contiguous()
        from safetensors.torch import save_file

        save_file({"features": feats}, str(tmp / "features.safetensors"))
        return {**{k: str(v) for k, v in key_fields.items()}, "shape": list(feats.shape), "created": time.time()}

    entry = _build_entry(root, "features", key, build)
    from safetensors.torch import load_file

    return load_file(str(entry / "features.safetensors"))["features"]
