"""Benchmarks read the public cases in ../shared (skipped when absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DRG_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def shared():
    if not (SHARED / "cases" / "chs-drg-1.1.parquet").exists():
        pytest.skip(f"benchmarks need {SHARED}/cases and schemes (set DRG_SHARED)")
    return SHARED
