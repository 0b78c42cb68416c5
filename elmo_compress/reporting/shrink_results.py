"""
The shrink results table (`benchmarks/shrink_results.py`, docs/shrink_results.md): per budget, the
paper's uniform SVD, activation-aware SVD at the same rank, `shrink`'s budgeted allocation, `shrink` with
teacher-forced reconstruction and with distillation after it, each with its held-out perplexity and its
downstream metric. Both metrics are `ResultRow`s of the same setting (method, target, rank, budget,
training, steps); this module pairs them and writes the Markdown and the CSV.
"""

from typing import Dict, List, Mapping, Sequence, Tuple

from elmo_compress.errors import ElmoCompressError
from elmo_compress.reporting.results import ResultRow, metric_cell, rows_csv
from elmo_compress.reporting.tables import format_markdown_table

Setting = Tuple[str, str, int, float, str, int]  # ResultRow.setting
HEADERS = ["budget", "row", "LSTM W_i + W_h parameters", "held-out perplexity", "x uncompressed"]


# What `shrink`'s training stages make of a row (`ResultRow.training`), in the table's order.
TRAINING_LABELS = {
    "reconstruct": "(d) + reconstruction ({steps} steps per cell{time})",
    "reconstruct+distill": "(e) + distillation ({steps} steps{time})",
    "distill": "(e) + distillation without reconstruction ({steps} steps{time})",
}


def row_label(row: ResultRow, seconds: Mapping[Setting, float]) -> str:
    """What a row is: (a) the paper's SVD, (b) activation-aware SVD, (c) allocation, (d) + teacher-forced
    reconstruction, (e) + distillation (with the seconds its last stage took, where known)."""
    if row.is_uncompressed:
        return "uncompressed"
    if row.training in TRAINING_LABELS:
        taken = seconds.get(row.setting)
        time = "" if taken is None else f", {taken:.0f} s"
        return TRAINING_LABELS[row.training].format(steps=row.training_steps, time=time)
    if row.training != "none":
        raise ElmoCompressError(f"no shrink results row for training {row.training!r}")
    if row.budget is not None:
        return f"(c) + allocation (shrink, {row.method})"
    if row.method == "svd":
        return f"(a) SVD as in the paper (rank {row.rank}, {row.target})"
    return f"(b) + activation-aware ({row.method}, rank {row.rank}, {row.target})"


def _downstream(rows: Sequence[ResultRow]) -> Dict[Setting, ResultRow]:
    paired: Dict[Setting, ResultRow] = {}
    for row in rows:
        if row.setting in paired:
            raise ElmoCompressError(f"two downstream rows for the setting {row.setting}")
        paired[row.setting] = row
    return paired


def results_markdown(
    groups: Sequence[Tuple[float, Sequence[ResultRow]]],
    baseline: ResultRow,
    downstream: Sequence[ResultRow],
    seconds: Mapping[Setting, float],
) -> str:
    """
    The table: the uncompressed line, then for each (budget, perplexity rows) group its rows, each with
    the LSTM W_i + W_h parameters (and their share), the perplexity, its ratio to `baseline`'s, and the
    downstream metric of the same setting (mean ± sample standard deviation over seeds). Every
    perplexity row, the baseline included, needs its downstream row.
    """
    paired = _downstream(downstream)
    missing = [row.setting for _, rows in groups for row in rows if row.setting not in paired]
    if baseline.setting not in paired or missing:
        raise ElmoCompressError(f"no downstream row for the setting {(missing or [baseline.setting])[0]}")
    task = paired[baseline.setting]
    seeds = f", mean ± sample std over {task.seeds} training seeds" if task.seeds > 1 else ""
    headers = HEADERS + [f"downstream {task.metric_name}{seeds}"]

    def line(budget: str, row: ResultRow) -> List[str]:
        kept = row.lstm_matrix_parameters / baseline.lstm_matrix_parameters
        return [
            budget,
            row_label(row, seconds),
            f"{row.lstm_matrix_parameters:,} ({kept:.1%})",
            f"{row.metric:.2f}",
            f"{row.metric / baseline.metric:.3f}",
            metric_cell(paired[row.setting]),
        ]

    body = [line("-", baseline)]
    for budget, rows in groups:
        body += [line(f"{budget:.1%}", row) for row in rows]
    return format_markdown_table(headers, body) + "\n"


def results_csv(perplexity: Sequence[ResultRow], downstream: Sequence[ResultRow]) -> str:
    """Both metrics' rows in the one result schema (`ResultRow`), perplexity first."""
    return rows_csv(list(perplexity) + list(downstream))
