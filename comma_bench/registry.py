"""One registry for every named thing: methods, datasets, backbones and protocols.

Each kind keeps a `Registry` instance next to the type it holds (`methods/registry.py`, `data/registry.py`,
`clip/zoo.py`, `protocols/registry.py`). They share:

- **registration** with `registry.add(name, entry)` or the decorator `@registry.register(name)`; a second entry
  under one name is a programming error (timm's `@register_model` warns; here it raises, so two plugins can never
  silently shadow each other);
- **lazy entries**: `add_lazy(name, "module:attr")` names an entry without importing its module (lm-eval's
  `"module:object"` entries); the module is imported on first `get(name)`;
- **discovery**: on the first lookup that misses, and before any listing, the registry imports the modules that
  register entries of its kind. Which modules those are is found, not listed: every `.py` file under the plugin
  roots (`PLUGIN_ROOTS`: the `comma_bench` package and the `baselines` package) whose source calls the registry's
  registration function (e.g. `register_method(`) is imported. So a new method is one new file in `baselines/`
  and no core file names it, while listing datasets still imports only the modules that define datasets (not the
  sweep, report or pretraining code, nor torch through them);
- **listing** with an fnmatch pattern, in a per-kind order;
- **the one unknown-name error** (`errors.unknown_name`), which lists the valid names.

Why source scanning rather than entry points: entry points live in the installed package metadata, so a new
method would need a `pyproject.toml` edit and a reinstall (and an editable checkout run with another checkout's
metadata would silently see the wrong list). Why not import every module under the roots: that would pull Ray,
pandas and the world pretraining code into `comma-bench list datasets`. Reading ~100 small files costs a few ms.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from comma_bench.errors import unknown_name

T = TypeVar("T")

# Packages whose modules may register entries (the core and the baselines shipped beside it).
PLUGIN_ROOTS: tuple[str, ...] = ("comma_bench", "baselines")


@functools.cache
def _root_dirs(root: str) -> tuple[Path, ...]:
    """The directories of a top-level package, found without importing it (namespace packages: several)."""
    spec = importlib.util.find_spec(root)
    if spec is None or spec.submodule_search_locations is None:
        return ()
    return tuple(Path(p) for p in spec.submodule_search_locations)


def _module_files(root: str) -> Iterator[tuple[str, Path]]:
    """(dotted module name, file) of every module under a package root, in sorted path order."""
    for base in _root_dirs(root):
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base).with_suffix("")
            parts = [root, *rel.parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if all(p.isidentifier() for p in parts):
                yield ".".join(parts), path


@functools.cache
def modules_calling(marker: str) -> tuple[str, ...]:
    """Modules under the plugin roots whose source contains `marker(` (a registration call or decorator)."""
    call = f"{marker}("
    found = []
    for root in PLUGIN_ROOTS:
        for name, path in _module_files(root):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if call in text:
                found.append(name)
    return tuple(found)


class Registry(Generic[T]):
    """Named entries of one kind, filled by registration calls in modules found on first use.

    Args:
        kind: the singular noun used in errors and listings (`method`, `dataset`, `model`, `protocol`).
        marker: the name of the function modules call to register entries here; modules whose source calls it are
            imported on first use. "" turns discovery off (entries are all registered by the defining module).
        sort_key: listing order of the names (default: alphabetical).
    """

    def __init__(self, kind: str, *, marker: str = "", sort_key: Callable[[str, T], object] | None = None) -> None:
        self.kind = kind
        self.marker = marker
        self._sort_key = sort_key
        self._entries: dict[str, T] = {}
        self._lazy: dict[str, str] = {}  # name -> "module:attr", resolved on first get()
        self._discovered = False

    # ---- filling ---------------------------------------------------------------------------------------------
    def add(self, name: str, entry: T) -> T:
        """Register `entry` under `name`; a second entry under one name raises (a programming error)."""
        if name in self._entries or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of `add`: `@registry.register("name")` above a class or function."""
        return lambda entry: self.add(name, entry)

    def add_lazy(self, name: str, target: str) -> None:
        """Name an entry by `"module:attr"` without importing the module yet."""
        if name in self._entries or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        if ":" not in target:
            raise ValueError(f"lazy {self.kind} entry {name!r}: expected 'module:attr', got {target!r}")
        self._lazy[name] = target

    def remove(self, name: str) -> None:
        """Drop an entry (tests that register a temporary one undo it here)."""
        self._entries.pop(name, None)
        self._lazy.pop(name, None)

    def discover(self) -> None:
        """Import every module that registers entries of this kind (once)."""
        if self._discovered or not self.marker:
            return
        self._discovered = True
        for module in modules_calling(self.marker):
            importlib.import_module(module)

    # ---- lookup ----------------------------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        if name in self._entries or name in self._lazy:
            return True
        self.discover()
        return name in self._entries or name in self._lazy

    def get(self, name: str) -> T:
        """The entry named `name`, or the one-line unknown-name error listing the valid names."""
        if name not in self:
            raise unknown_name(self.kind, name, self.names())
        if name in self._lazy:
            module, _, attr = self._lazy.pop(name).partition(":")
            self._entries[name] = getattr(importlib.import_module(module), attr)
        return self._entries[name]

    def find(self, name: str) -> T | None:
        """The entry, or None when there is none (for callers with a fallback, e.g. open_clip's own models)."""
        return self.get(name) if name in self else None

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching an fnmatch pattern, in this registry's order."""
        self.discover()
        names = [n for n in [*self._entries, *self._lazy] if fnmatch.fnmatch(n, pattern)]
        if self._sort_key is None:
            return sorted(names)
        return sorted(names, key=lambda n: self._sort_key(n, self.get(n)))  # type: ignore[misc]
