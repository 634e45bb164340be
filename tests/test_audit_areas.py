"""The registered target areas (evaluation/audit/areas.py): each has its words in both languages, a direction, the
kind of number its rate is, review words where it is on the review list, and a plant -- a gaming behaviour a synthetic
world plants so the judgment can be tested both ways -- or is listed here as not planted yet (a new area must say)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.audit.areas import AREAS, BY_NAME, REGISTRY

# areas no synthetic world plants yet: their flags are tested only on null worlds (nothing planted, nothing flagged)
NOT_PLANTED: set = set()


def _zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_area_has_its_words_direction_kind_and_review_words():
    from evaluation.words import AREA_TEXT, VALUE_TEXT
    from drg.formats import AUDIT_AREA_KINDS

    assert len(AREAS) == len(set(AREAS)) == len(REGISTRY)
    for a in REGISTRY:
        assert len(a.zh) == 2 and all(_zh(w) for w in a.zh), a.name
        assert len(a.en) == 2 and all(w and not _zh(w) for w in a.en), a.name
        assert a.direction in VALUE_TEXT["zh"] and a.direction in ("high", "low"), a.name
        assert a.kind in ("rate", "mean", "ratio") and AUDIT_AREA_KINDS.get(a.name, "rate") == a.kind
        assert (a.stake is None) == (a.reasons is None), a.name  # on the review list: it says why in words
        if a.reasons is not None:
            extra = {"p": np.array([0.1]), "oe": np.array([1.5]), "los": np.array([1.0]), "mean_los": np.array([9.0])}
            assert _zh(a.reasons("zh", np.array([0.7]), extra)[0]) and not _zh(a.reasons("en", np.array([0.7]), extra)[0])
        assert AREA_TEXT["zh"][a.name] == a.zh and AREA_TEXT["en"][a.name] == a.en
    assert len({a.zh[0] for a in REGISTRY}) == len(REGISTRY)  # a Chinese table tells the areas apart


def test_every_area_is_planted_by_a_synthetic_world_or_says_it_is_not():
    """A plant names a gaming column of drg synth's hospitals (``synth:<column>``) that its world sets for some
    hospitals; an area without one is in NOT_PLANTED, and one with a plant is not."""
    from drg.synth import plant_gaming

    h = pd.DataFrame({"hospital_id": [f"H{i}" for i in range(40)], "level": ["secondary"] * 40})
    h = h.assign(quality_outlier=False, efficiency_outlier=False, casemix_only=False, supported=False)
    h = plant_gaming(h, [2019, 2020, 2021], np.random.default_rng(0))
    for a in REGISTRY:
        if a.name in NOT_PLANTED:
            assert a.plant is None, a.name
            continue
        assert a.plant and a.plant.startswith("synth:"), a.name
        column = a.plant.split(":", 1)[1]
        assert column in h.columns, a.name
        planted = h[column]
        assert (planted.notna() & (planted != False)).any(), a.name  # noqa: E712  (some hospital plays this game)
    assert NOT_PLANTED <= set(AREAS)


@pytest.mark.slow
def test_the_audit_tables_list_the_registered_areas_in_order(tmp_path):
    """hospital_flags and target_areas carry exactly the registered areas, in the registry's order."""
    import grouper
    import pyarrow.parquet as pq

    from drg.audit import audit_to
    from drg.synth import synthesize

    scheme = grouper.load_scheme()
    synthesize(scheme, str(tmp_path / "s"), cases=3000, seed=2, quiet=True)
    pq.write_table(grouper.group(pq.read_table(tmp_path / "s" / "discharges.parquet"), scheme), tmp_path / "g.parquet")
    tables = audit_to(str(tmp_path / "g.parquet"), str(tmp_path / "a"), lang="en")
    assert tables["target_areas"]["target_area"].tolist() == list(AREAS)
    assert set(tables["hospital_flags"]["target_area"]) <= set(AREAS)  # an area without a case in the file has no row
    assert BY_NAME["principal_choice"].direction == "low"
