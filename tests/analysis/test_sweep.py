from pathlib import Path

import pytest

from elmo_compress.analysis import SweepError, SweepPoint, correlation_view, read_sweep
from elmo_compress.errors import ElmoCompressError

from tests.helpers import RESULT_COLUMNS as COLUMNS, sweep_rows, write_sweep

NORMS = {
    "input": {"l1_norm": 10.0, "nuclear_norm": 5.0, "row_l1_std": 2.0},
    "recurrent": {"l1_norm": 12.0, "nuclear_norm": 4.0, "row_l1_std": 2.0},
}


def test_read_sweep_skips_baseline_and_finetuned_rows_and_averages_repeats(tmp_path: Path) -> None:
    rows = sweep_rows()
    rows.append(dict(rows[1], metric_drop=14.0))  # a second seed of svd input 8: mean drop (10 + 14) / 2
    rows.append(dict(rows[2], metric_drop=50.0, training_steps=100))  # fine-tuned: left out
    points = read_sweep(write_sweep(tmp_path / "sweep.csv", rows))
    assert len(points) == 9
    assert SweepPoint("accuracy", "svd", "input", 8, 12.0, 2) in points
    assert SweepPoint("accuracy", "svd", "recurrent", 8, 2.0, 1) in points
    assert SweepPoint("accuracy", "svd", "both", 16, 6.0, 1) in points
    assert [(p.method, p.target, p.rank) for p in points][:2] == [("prune", "input", 8), ("prune", "input", 16)]


def test_budget_rows_are_left_out(tmp_path: Path) -> None:
    # Rows of a budgeted allocation have per-matrix ranks, no single rank to place them at.
    rows = sweep_rows() + [dict(method="svd", target="both", rank="", budget=0.133, metric_name="accuracy", metric=70.0, metric_drop=10.0)]
    assert len(read_sweep(write_sweep(tmp_path / "sweep.csv", rows, COLUMNS + ["budget"]))) == 9


def test_correlation_view_counts_where_the_larger_norm_lost_more(tmp_path: Path) -> None:
    view = correlation_view(read_sweep(write_sweep(tmp_path / "sweep.csv", sweep_rows())), NORMS)
    # svd: W_i lost more at ranks 8 and 16. W_h has the larger L1 norm, W_i the larger nuclear norm; the
    # row-L1 std is equal, which never counts. prune: W_h lost more at rank 8, a tie at 16 (not counted).
    assert view["agreement"] == {
        "accuracy": {
            "prune": {"ranks": 2, "l1_norm": 1, "nuclear_norm": 0, "row_l1_std": 0},
            "svd": {"ranks": 2, "l1_norm": 0, "nuclear_norm": 2, "row_l1_std": 0},
        }
    }
    assert view["norms"] == NORMS
    both = [p for p in view["points"] if p["target"] == "both"]
    assert both == [
        {"metric_name": "accuracy", "method": "svd", "target": "both", "rank": 16, "metric_drop": 6.0, "count": 1}
    ]


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"method": "tucker"}, "unknown method 'tucker'"),
        ({"target": "gates"}, "unknown target 'gates'"),
        ({"rank": "x"}, "rank must be an integer"),
        ({"rank": "0"}, "rank must be an integer >= 1"),
        ({"rank": "2.5"}, "rank must be an integer >= 1"),
        ({"rank": ""}, "rank must be an integer"),
        ({"metric_drop": "abc"}, "metric_drop must be a number"),
        ({"metric_drop": "nan"}, "metric_drop must be finite"),
    ],
)
def test_malformed_row_is_named_with_its_line(tmp_path: Path, change, expected: str) -> None:
    rows = sweep_rows()
    rows[3].update(change)
    with pytest.raises(SweepError, match=expected) as error:
        read_sweep(write_sweep(tmp_path / "sweep.csv", rows))
    assert "line 5" in str(error.value) and "\n" not in str(error.value)


def test_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="not found"):
        read_sweep(str(tmp_path / "missing.csv"))
    without_drop = write_sweep(tmp_path / "a.csv", sweep_rows(), [c for c in COLUMNS if c != "metric_drop"])
    with pytest.raises(SweepError, match="lacks the column"):
        read_sweep(without_drop)
    ragged = tmp_path / "b.csv"
    ragged.write_text("method,target,rank,metric_name,metric,metric_drop\nsvd,input,8,accuracy,70\n")
    with pytest.raises(SweepError, match="line 2: the row does not have as many fields"):
        read_sweep(str(ragged))
    binary = tmp_path / "c.csv"
    binary.write_bytes(b"\xff\xfemethod,target\n\xff\x00")
    with pytest.raises(SweepError, match="cannot be read"):
        read_sweep(str(binary))
    baseline_only = write_sweep(tmp_path / "d.csv", sweep_rows(settings=[("svd", "both", 8, 70.0)]))
    with pytest.raises(SweepError, match="no compressed rows with target input or recurrent"):
        read_sweep(baseline_only)
    assert issubclass(SweepError, ElmoCompressError)
