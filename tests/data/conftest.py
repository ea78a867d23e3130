"""Shared fixtures: tiny CoOp-layout data roots (see `tests.data.coop_tree`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.coop_tree import ExpectedDataset, build_coop_tree


@pytest.fixture(scope="session")
def coop_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, ExpectedDataset]]:
    """One tree with all 15 datasets, shared by the read-only tests of the session.

    Loading with shots >= 1 writes few-shot caches under `split_fewshot/`; tests that depend on whether a cache
    exists build their own tree with `fresh_tree`.
    """
    root = tmp_path_factory.mktemp("coop_data")
    return root, build_coop_tree(root)


@pytest.fixture
def fresh_tree(tmp_path: Path):
    """Factory: `fresh_tree(["oxford_pets"])` builds the named datasets in a new root for one test."""

    def make(keys: list[str] | None = None) -> tuple[Path, dict[str, ExpectedDataset]]:
        root = tmp_path / "data"
        return root, build_coop_tree(root, keys)

    return make
