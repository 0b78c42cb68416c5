"""
The one schema of compression results, for every table this package writes (the demo's language-model
table, the downstream sweep, the shrink results): `ResultRow`, its CSV and Markdown writers, the
paper-style grid (rows method / target, columns rank) and the metric-vs-rank figure.
"""

import csv
import io
import math
from dataclasses import asdict, dataclass, fields
from typing import Dict, List, Optional, Sequence, Tuple

from elmo_compress.constants import TARGET_CHOICES, UNCOMPRESSED
from elmo_compress.errors import ElmoCompressError
from elmo_compress.reporting import plotting
from elmo_compress.reporting.tables import format_markdown_table, format_table

TARGET_TITLES = {"input": "W_i (input) compressed", "recurrent": "W_h (recurrent) compressed", "both": "W_i and W_h"}


@dataclass
class ResultRow:
    """
    One evaluated setting: the uncompressed model (method and target `"none"`) or one compression.

    # Parameters

    method : `str`
        A method of `elmo_compress.methods`, or `"none"`.
    target : `str`
        `"input"`, `"recurrent"`, `"both"`, or `"none"`.
    rank : `Optional[int]`
        The rank of every compressed matrix; `None` for the uncompressed model and for per-matrix
        ranks from a budget.
    budget : `Optional[float]`
        For budgeted rank allocation: the share of the LSTM matrix parameters kept.
    training : `str`
        `"none"`, `"finetune"` (language-model loss), `"distill"` (teacher biLM, no softmax),
        `"reconstruct"` (`shrink`'s teacher-forced reconstruction of each cell, no softmax) or
        `"reconstruct+distill"` (both, in that order).
    training_steps : `int`
        Optimizer steps of that training (0 with none): per cell for `"reconstruct"`, the distillation's
        for `"reconstruct+distill"`.
    metric_name : `str`
        E.g. `"perplexity_mean"`, `"accuracy"`, `"f1-measure-overall"`.
    metric : `float`
        Its value.
    metric_drop : `float`
        How much worse than uncompressed: positive is worse, whichever way the metric goes.
    bilm_parameters : `int`
        Parameters the whole biLM stores (compressed matrices counted as stored).
    lstm_matrix_parameters : `int`
        The LSTM W_i and W_h share of them, which is also their multiply-adds per token.
    mean_relative_error : `Optional[float]`
        Mean `||W - W_r||_F / ||W||_F` over the compressed matrices.
    metric_forward, metric_backward : `Optional[float]`
        Per-direction values where the metric has them (perplexity).
    seeds : `int`
        How many models, trained with different seeds, the metric is the mean over (1: one model).
    metric_spread : `Optional[float]`
        The sample standard deviation of the metric over those seeds; `None` with one seed.
    """

    method: str
    target: str
    rank: Optional[int]
    metric_name: str
    metric: float
    metric_drop: float
    bilm_parameters: int
    lstm_matrix_parameters: int
    budget: Optional[float] = None
    training: str = "none"
    training_steps: int = 0
    mean_relative_error: Optional[float] = None
    metric_forward: Optional[float] = None
    metric_backward: Optional[float] = None
    seeds: int = 1
    metric_spread: Optional[float] = None

    @property
    def is_uncompressed(self) -> bool:
        return self.method == UNCOMPRESSED

    @property
    def setting(self) -> Tuple[str, str, int, float, str, int]:
        """What identifies the row (two rows with the same setting are the same evaluation)."""
        return (
            self.method,
            self.target,
            -1 if self.rank is None else int(self.rank),
            -1.0 if self.budget is None else float(self.budget),
            self.training,
            int(self.training_steps),
        )


COLUMNS = [column.name for column in fields(ResultRow)]
# Columns added later: a CSV written before them (without these, at the end) still reads, with their defaults.
LATER_COLUMNS = ("seeds", "metric_spread")
_INTEGERS = ("rank", "training_steps", "bilm_parameters", "lstm_matrix_parameters", "seeds")
_FLOATS = ("metric", "metric_drop", "budget", "mean_relative_error", "metric_forward", "metric_backward", "metric_spread")


def metric_drop(baseline: float, value: float, higher_is_better: bool) -> float:
    """How much worse `value` is than `baseline`: positive is worse."""
    return (baseline - value) if higher_is_better else (value - baseline)


def rows_csv(rows: Sequence[ResultRow]) -> str:
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: "" if value is None else value for name, value in asdict(row).items()})
    return table.getvalue()


def _parse(name: str, text: str) -> object:
    if text == "":
        return None
    if name in _INTEGERS:
        return int(text)
    if name in _FLOATS:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{name} is {text}")
        return value
    return text


def read_rows_csv(text: str, source: str) -> List[ResultRow]:
    """Rows from `rows_csv` output; anything else is one error naming `source`."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    earlier = [name for name in COLUMNS if name not in LATER_COLUMNS]
    if reader.fieldnames not in (COLUMNS, earlier):
        raise ElmoCompressError(f"{source} is not a result table of this tool (columns {reader.fieldnames})")
    present = reader.fieldnames
    try:
        rows = [ResultRow(**{name: _parse(name, record[name]) for name in present}) for record in reader]
    except (TypeError, ValueError) as error:
        raise ElmoCompressError(f"{source}: line {reader.line_num}: {error}") from None
    for row in rows:
        if row.seeds is None:  # an empty cell: one model
            row.seeds = 1
    return rows


def _rank_cell(row: ResultRow) -> str:
    if row.rank is not None:
        return str(row.rank)
    return f"budget {row.budget:.1%}" if row.budget is not None else "-"


def metric_cell(row: ResultRow) -> str:
    """The metric, with `± spread` when it is a mean over seeds."""
    if row.metric_spread is None:
        return _value(row.metric)
    return f"{_value(row.metric)} ± {_value(row.metric_spread)}"


def seeds_note(rows: Sequence[ResultRow]) -> str:
    """How the metric cells of `rows` read: empty for one model each."""
    seeds = sorted({row.seeds for row in rows})
    if seeds == [1]:
        return ""
    counts = "/".join(map(str, seeds))
    return f"Metrics: mean ± sample standard deviation over {counts} training seeds (one model per seed)."


def _training_cell(row: ResultRow) -> str:
    return "-" if row.training == "none" else f"{row.training} {row.training_steps}"


def table_cells(rows: Sequence[ResultRow]) -> Tuple[List[str], List[List[str]]]:
    """Headers and cells of the long table: one line per row."""
    baseline = next(row for row in rows if row.is_uncompressed)
    directions = any(row.metric_forward is not None for row in rows)
    headers = ["method", "target", "rank", "training", "LSTM W params", "biLM params", "mean rel. error"]
    name = baseline.metric_name
    headers += ([f"{name} fwd", f"{name} bwd"] if directions else []) + [name, "drop"]
    cells = []
    for row in rows:
        kept = row.lstm_matrix_parameters / baseline.lstm_matrix_parameters
        line = [row.method, row.target, _rank_cell(row), _training_cell(row)]
        line += [f"{row.lstm_matrix_parameters:,} ({kept:.0%})", f"{row.bilm_parameters:,}"]
        line.append("-" if row.mean_relative_error is None else f"{row.mean_relative_error:.3f}")
        if directions:
            line += [_value(row.metric_forward), _value(row.metric_backward)]
        line += [metric_cell(row), f"{row.metric_drop:+.4g}"]
        cells.append(line)
    return headers, cells


def _value(value: Optional[float]) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.4f}"


def text_table(rows: Sequence[ResultRow]) -> str:
    return format_table(*table_cells(rows))


def markdown_table(rows: Sequence[ResultRow]) -> str:
    return format_markdown_table(*table_cells(rows)) + "\n"


def rank_grid(rows: Sequence[ResultRow], methods: Sequence[str]) -> str:
    """
    The paper's view (Winata et al. 2019): rows method / target, columns rank, each cell the metric and
    the share of LSTM W_i + W_h parameters kept. Rows without a single rank (budgets) and trained rows
    are listed below the grid.
    """
    baseline = next(row for row in rows if row.is_uncompressed)
    grid_rows = [row for row in rows if row.rank is not None and row.training == "none" and not row.is_uncompressed]
    ranks = sorted({int(row.rank) for row in grid_rows})
    cells: Dict[Tuple[str, str, int], ResultRow] = {(r.method, r.target, int(r.rank)): r for r in grid_rows}
    note = seeds_note(rows)
    lines = [
        f"Uncompressed: {baseline.metric_name} {metric_cell(baseline)}, biLM {baseline.bilm_parameters:,} "
        f"parameters (LSTM W_i + W_h {baseline.lstm_matrix_parameters:,}). Cells: {baseline.metric_name} "
        "(share of the LSTM W_i + W_h parameters and multiply-adds kept)." + (f" {note}" if note else ""),
        "",
    ]
    headers = ["method", "target"] + [f"rank {rank}" for rank in ranks]
    body = []
    for method in methods:
        for target in TARGET_CHOICES:
            if not any((method, target, rank) in cells for rank in ranks):
                continue
            line = [method, target]
            for rank in ranks:
                row = cells.get((method, target, rank))
                kept = row.lstm_matrix_parameters / baseline.lstm_matrix_parameters if row else 0.0
                line.append(f"{metric_cell(row)} ({kept:.0%})" if row else "-")
            body.append(line)
    lines.append(format_markdown_table(headers, body))
    others = [row for row in rows if not row.is_uncompressed and row not in grid_rows]
    if others:
        lines += ["", "Other settings:", "", markdown_table([baseline] + others)]
    return "\n".join(lines).rstrip() + "\n"


def plot_metric_vs_rank(rows: Sequence[ResultRow], methods: Sequence[str], path: str, title: str, log_scale: bool = False) -> None:
    """One panel per target, one line per method (untrained rows), the uncompressed metric dashed."""
    from matplotlib import ticker

    pyplot = plotting.pyplot()
    baseline = next(row for row in rows if row.is_uncompressed)
    plotted = [row for row in rows if row.rank is not None and row.training == "none" and not row.is_uncompressed]
    targets = [target for target in TARGET_CHOICES if any(row.target == target for row in plotted)]
    figure, axes = pyplot.subplots(1, len(targets), figsize=(4.4 * len(targets), 4.2), sharey=True, squeeze=False)
    for axis, target in zip(axes[0], targets):
        for method in methods:
            points = sorted(
                (row.rank, row.metric, row.metric_spread or 0.0) for row in plotted if (row.method, row.target) == (method, target)
            )
            if points:  # error bars: the spread over training seeds, where the rows have one
                xs, ys, spreads = zip(*points)
                axis.errorbar(xs, ys, yerr=spreads if any(spreads) else None, marker="o", capsize=3, label=method)
        axis.axhline(baseline.metric, color="gray", linestyle="--", label="uncompressed")
        axis.set_title(TARGET_TITLES[target])
        axis.set_xlabel("rank (prune: same parameter count)")
        axis.set_xticks(sorted({int(row.rank) for row in plotted if row.target == target}))
        if log_scale:
            axis.set_yscale("log")
            for formatter in (axis.yaxis.set_major_formatter, axis.yaxis.set_minor_formatter):
                formatter(ticker.FuncFormatter(lambda value, _: f"{value:.0f}"))
        axis.grid(True, alpha=0.3)
    axes[0][0].set_ylabel(baseline.metric_name + (" (log scale)" if log_scale else ""))
    axes[0][-1].legend()
    figure.suptitle(title)
    figure.tight_layout()
    plotting.save_png(figure, path)
