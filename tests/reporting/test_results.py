"""The one result schema: CSV round trip with the seed fields, CSVs written before them, the seed cells."""

import dataclasses

import pytest

from elmo_compress.downstream.seeds import SeedsError, aggregate_seeds
from elmo_compress.errors import ElmoCompressError
from elmo_compress.reporting.results import COLUMNS, LATER_COLUMNS, ResultRow, markdown_table, rank_grid, read_rows_csv, rows_csv


def _row(method: str, target: str, rank, metric: float, drop: float = 0.0, **extra) -> ResultRow:
    return ResultRow(method, target, rank, "f1-measure-overall", metric, drop, 1000, 500 if rank else 800, **extra)


def _seed_rows(baseline: float, rank8: float) -> list:
    return [_row("none", "none", None, baseline), _row("svd", "both", 8, rank8, baseline - rank8, mean_relative_error=0.75)]


def test_round_trip_keeps_every_field_including_seeds_and_spread():
    rows = [
        _row("none", "none", None, 0.86, seeds=3, metric_spread=0.0098),
        _row("svd", "both", 8, 0.75, 0.11, mean_relative_error=0.752, seeds=3, metric_spread=0.028),
        _row("shrink", "both", None, 0.8, 0.06, budget=0.133, training="distill", training_steps=300),
    ]
    text = rows_csv(rows)
    assert text.splitlines()[0].split(",") == COLUMNS and COLUMNS[-2:] == list(LATER_COLUMNS)
    assert read_rows_csv(text, "t.csv") == rows


def test_a_csv_written_before_the_seed_fields_still_reads():
    rows = [_row("none", "none", None, 0.86), _row("svd", "both", 8, 0.75, 0.11)]
    old_columns = [name for name in COLUMNS if name not in LATER_COLUMNS]
    lines = rows_csv(rows).splitlines()
    old_text = "\n".join(line.rsplit(",", 2)[0] for line in lines) + "\n"
    assert old_text.splitlines()[0] == ",".join(old_columns)
    read = read_rows_csv(old_text, "old.csv")
    assert read == rows and all(row.seeds == 1 and row.metric_spread is None for row in read)


def test_a_csv_of_other_columns_is_one_error():
    with pytest.raises(ElmoCompressError, match="not a result table"):
        read_rows_csv("method,seeds\nsvd,3\n", "other.csv")


def test_aggregate_seeds_mean_and_sample_standard_deviation():
    per_seed = [_seed_rows(0.86, 0.70), _seed_rows(0.87, 0.80), _seed_rows(0.85, 0.75)]
    baseline, rank8 = aggregate_seeds(per_seed)
    assert (baseline.method, rank8.method, rank8.rank) == ("none", "svd", 8)
    assert baseline.seeds == rank8.seeds == 3
    assert baseline.metric == pytest.approx(0.86) and baseline.metric_spread == pytest.approx(0.01)  # n - 1
    assert rank8.metric == pytest.approx(0.75) and rank8.metric_spread == pytest.approx(0.05)
    assert rank8.metric_drop == pytest.approx(0.11) and rank8.mean_relative_error == pytest.approx(0.75)
    assert "0.7500 ± 0.0500" in markdown_table([baseline, rank8])
    grid = rank_grid([baseline, rank8], ["svd"])
    assert "0.8600 ± 0.0100" in grid and "over 3 training seeds" in grid


def test_one_seed_gives_its_rows_without_spread():
    rows = aggregate_seeds([_seed_rows(0.86, 0.7)])
    assert rows == [dataclasses.replace(row, seeds=1, metric_spread=None) for row in _seed_rows(0.86, 0.7)]
    assert "±" not in markdown_table(rows) and "training seeds" not in rank_grid(rows, ["svd"])


def test_seeds_that_cannot_be_combined_are_refused():
    with pytest.raises(SeedsError, match="other settings"):
        aggregate_seeds([_seed_rows(0.86, 0.7), _seed_rows(0.86, 0.7)[:1]])
    with pytest.raises(SeedsError, match="already a mean"):
        aggregate_seeds([aggregate_seeds([_seed_rows(0.86, 0.7), _seed_rows(0.8, 0.6)])])
    with pytest.raises(SeedsError, match="twice"):
        aggregate_seeds([_seed_rows(0.86, 0.7) * 2])
    with pytest.raises(SeedsError, match="no seeds"):
        aggregate_seeds([])
