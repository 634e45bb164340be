"""Without --hospitals, the built-in network is taken when every hospital id of the file is in it -- decided without a
pass of its own (drg/region_of.py): the first batch's ids propose it, every pass notes the ids it reads, and a later id
outside the network runs the analysis again without it. Tested both ways, against deciding from every id first."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from drg.io import InputError
from drg.region_of import run_in_region
from drg.regions import hospitals_table, load_region
from evaluation.analysis import Pass

NETWORK = load_region("dezhou")[0]["hospital_id"].astype(str).tolist()


def _file(tmp_path, ids: list) -> str:
    path = tmp_path / "g.parquet"
    pq.write_table(pa.table({"hospital_id": ids, "drg": ["FM19"] * len(ids)}), path, row_group_size=100)
    return str(path)


def _analysis(runs: list):
    """An analysis that counts its rows and records the hospitals table it was given."""
    def make(table):
        runs.append(None if table is None else sorted(table["hospital_id"].astype(str)))
        rows = []
        yield Pass(["hospital_id"], lambda b: b.num_rows, rows.append)
        return sum(rows)

    return make


@pytest.mark.parametrize("later", [None, "X99", ""])
def test_the_network_is_taken_exactly_when_every_id_is_in_it(tmp_path, later):
    ids = [NETWORK[i % 5] for i in range(300)]
    if later is not None:
        ids[250] = later  # in the third batch: the first batch proposes the network, a later one is outside it
    grouped, runs = _file(tmp_path, ids), []
    assert run_in_region(_analysis(runs), grouped, None, 100, None, None) == 300
    want = hospitals_table(None, set(ids))  # the decision from every id
    assert runs[-1] == (None if want is None else sorted(want["hospital_id"].astype(str)))
    assert len(runs) == (1 if later is None else 2)  # one pass when the guess holds, the analysis again when not


def test_an_analysis_that_needs_levels_says_so_in_one_line_when_a_later_id_is_outside(tmp_path):
    ids = [NETWORK[0]] * 150 + ["X99"] * 50
    with pytest.raises(InputError, match="needs each hospital's level"):
        run_in_region(_analysis([]), _file(tmp_path, ids), None, 100, None, None, "support")


def test_a_file_outside_the_network_is_decided_by_its_first_batch(tmp_path):
    runs = []
    assert run_in_region(_analysis(runs), _file(tmp_path, ["A1", "A2"] * 100), None, 100, None, None) == 200
    assert runs == [None]
