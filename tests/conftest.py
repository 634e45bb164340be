"""Shared fixtures: the public schemes and cases in ../shared (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DRG_SHARED", ROOT.parent / "shared"))
SCHEMES = SHARED / "schemes"
CASES = SHARED / "cases"


def shared_schemes() -> list[str]:
    if not SCHEMES.is_dir():
        return []
    return sorted(p.name for p in SCHEMES.iterdir() if (p / "mdc.csv").exists())


def case_files() -> list[str]:
    if not CASES.is_dir():
        return []
    return sorted(p.stem for p in CASES.glob("*.parquet") if (SCHEMES / p.stem).is_dir())


def need_shared():
    if not shared_schemes():
        pytest.skip(f"no public schemes at {SCHEMES} (set DRG_SHARED to the shared/ folder to run this test)")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Compiled schemes go to a per-run cache, never the user's."""
    os.environ["DRG_CACHE_DIR"] = str(tmp_path_factory.mktemp("scheme-cache"))
    yield


@pytest.fixture(scope="session")
def chs11():
    need_shared()
    import grouper

    return grouper.load_scheme(SCHEMES / "chs-drg-1.1")
