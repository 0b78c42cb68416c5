from dataclasses import replace

import pytest

from elmo_compress.errors import ElmoCompressError
from elmo_compress.reporting.results import ResultRow, read_rows_csv
from elmo_compress.reporting.shrink_results import results_csv, results_markdown, row_label

DENSE = 524_288


def perplexity(method: str, value: float, parameters: int, **fields) -> ResultRow:
    return ResultRow(method, fields.pop("target", "both"), fields.pop("rank", None), "perplexity_mean", value,
                     value - 100.0, 1_000_000, parameters, **fields)


def f1(row: ResultRow, value: float, spread: float) -> ResultRow:
    return replace(row, metric_name="f1-measure-overall", metric=value, metric_drop=0.9 - value, seeds=3,
                   metric_spread=spread)


BASELINE = perplexity("none", 100.0, DENSE, target="none")
ROWS = [
    perplexity("svd", 134.0, 69_632, rank=8),
    perplexity("asvd", 125.0, 69_632, rank=8),
    perplexity("asvd", 118.0, 69_600, budget=0.1328125),
    perplexity("asvd", 110.0, 69_600, budget=0.1328125, training="reconstruct", training_steps=500),
    perplexity("asvd", 104.0, 69_600, budget=0.1328125, training="reconstruct+distill", training_steps=300),
]
DOWNSTREAM = [f1(BASELINE, 0.9, 0.01)] + [f1(row, 0.8 + index / 100, 0.02) for index, row in enumerate(ROWS)]


def test_labels_name_each_stage_and_the_training_time():
    seconds = {ROWS[3].setting: 80.6, ROWS[4].setting: 61.4}
    labels = [row_label(row, seconds) for row in [BASELINE] + ROWS]
    assert labels == [
        "uncompressed",
        "(a) SVD as in the paper (rank 8, both)",
        "(b) + activation-aware (asvd, rank 8, both)",
        "(c) + allocation (shrink, asvd)",
        "(d) + reconstruction (500 steps per cell, 81 s)",
        "(e) + distillation (300 steps, 61 s)",
    ]
    alone = replace(ROWS[4], training="distill")
    assert row_label(alone, {}) == "(e) + distillation without reconstruction (300 steps)"
    with pytest.raises(ElmoCompressError, match="no shrink results row for training 'finetune'"):
        row_label(replace(ROWS[4], training="finetune"), {})


def test_table_pairs_each_perplexity_row_with_its_downstream_row():
    table = results_markdown([(0.1328125, ROWS)], BASELINE, list(reversed(DOWNSTREAM)), {})
    lines = table.splitlines()
    assert lines[0].endswith("downstream f1-measure-overall, mean ± sample std over 3 training seeds |")
    assert lines[2] == "| - | uncompressed | 524,288 (100.0%) | 100.00 | 1.000 | 0.9000 ± 0.0100 |"
    assert lines[3] == (
        "| 13.3% | (a) SVD as in the paper (rank 8, both) | 69,632 (13.3%) | 134.00 | 1.340 | 0.8000 ± 0.0200 |"
    )
    assert lines[7].startswith(
        "| 13.3% | (e) + distillation (300 steps) | 69,600 (13.3%) | 104.00 | 1.040 | 0.8400"
    )
    assert len(lines) == 8


def test_a_row_without_its_downstream_row_is_refused():
    with pytest.raises(ElmoCompressError, match="no downstream row"):
        results_markdown([(0.1328125, ROWS)], BASELINE, DOWNSTREAM[:-1], {})
    with pytest.raises(ElmoCompressError, match="two downstream rows"):
        results_markdown([(0.1328125, ROWS)], BASELINE, DOWNSTREAM + DOWNSTREAM[-1:], {})


def test_csv_reads_back_as_result_rows():
    assert read_rows_csv(results_csv([BASELINE] + ROWS, DOWNSTREAM), "x") == [BASELINE] + ROWS + DOWNSTREAM
