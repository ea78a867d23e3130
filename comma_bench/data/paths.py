"""Path checks shared by the dataset readers and `comma-bench datasets check`.

A reader that meets a missing folder or file raises `MissingPathError`, a `UserError` that also carries the path, so
that the check command can report "missing <path>" per dataset while every other caller just sees a one-line error.
"""

from __future__ import annotations

import os
from pathlib import Path

from comma_bench.errors import UserError


class MissingPathError(UserError):
    """A path the dataset layout requires does not exist; `path` is the first one found missing."""

    def __init__(self, path: Path | str, expected: str) -> None:
        self.path = Path(path)  # the missing path, reported verbatim by `datasets check`
        self.expected = expected  # what should have been there, for the message
        super().__init__(f"{self.path}: {expected}")

    def __reduce__(self) -> tuple:
        # Exceptions cross process boundaries (DataLoader workers, Ray trials) by pickling; rebuild with both args.
        return (type(self), (self.path, self.expected))


def require_dir(path: Path, what: str) -> Path:
    """`path` if it is a directory, else `MissingPathError` naming it."""
    if not path.is_dir():
        raise MissingPathError(path, f"expected {what} (a directory); it does not exist")
    return path


def require_file(path: Path, what: str) -> Path:
    """`path` if it is a regular file, else `MissingPathError` naming it."""
    if not path.is_file():
        raise MissingPathError(path, f"expected {what} (a file); it does not exist")
    return path


def require_paths(dataset_dir: Path, relpaths: tuple[str, ...]) -> None:
    """Check the dataset dir and then each required path in order; the first missing one is raised.

    Whether an entry is a file or a directory is not distinguished here: the reader that opens it says what it
    expected. Checking existence in a fixed order is what makes "the first missing path" well defined.
    """
    require_dir(dataset_dir, "the dataset folder")
    for rel in relpaths:
        path = dataset_dir / rel
        if not path.exists():
            raise MissingPathError(path, f"expected {rel!r} inside {dataset_dir.name!r}; it does not exist")


def list_files(folder: Path) -> list[str]:
    """Sorted names of the non-hidden regular files in `folder`.

    Dassl's `listdir_nohidden` skips names starting with "." but keeps `os.listdir` order, which differs between
    file systems; sorting makes the item order (and therefore the few-shot sample) the same on every machine.
    """
    return sorted(e.name for e in _scandir(folder) if not e.name.startswith(".") and e.is_file())


def list_dirs(folder: Path) -> list[str]:
    """Sorted names of the non-hidden sub-directories of `folder`."""
    return sorted(e.name for e in _scandir(folder) if not e.name.startswith(".") and e.is_dir())


def _scandir(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except FileNotFoundError:
        raise MissingPathError(folder, "expected a directory; it does not exist") from None
    except NotADirectoryError:
        raise MissingPathError(folder, "expected a directory; found a file") from None
