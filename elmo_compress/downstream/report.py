"""
Sweep results as the seed paper shows them: a Markdown table (rows method / target, columns rank,
cells metric with parameters and ELMo time relative to uncompressed) and two plots.
"""

from typing import Dict, List, Sequence, Tuple

from elmo_compress import plotting
from elmo_compress.atomic import atomic_output
from elmo_compress.downstream.sweep import SweepRow
from elmo_compress.factorize import METHODS, TARGET_CHOICES


def _compressed(rows: Sequence[SweepRow]) -> List[SweepRow]:
    return [row for row in rows if row.method != "none"]


def _baseline(rows: Sequence[SweepRow]) -> SweepRow:
    return next(row for row in rows if row.method == "none")


def _ordered_groups(rows: Sequence[SweepRow]) -> List[Tuple[str, str]]:
    present = {(row.method, row.target) for row in _compressed(rows)}
    order = [(method, target) for method in METHODS for target in TARGET_CHOICES]
    return [group for group in order if group in present]


def sweep_markdown(rows: Sequence[SweepRow]) -> str:
    """The paper-style table; each cell: metric, LSTM W_i+W_h parameters kept, relative ELMo time."""
    baseline = _baseline(rows)
    ranks = sorted({int(row.rank) for row in _compressed(rows)})
    cells: Dict[Tuple[str, str, int], SweepRow] = {row.setting: row for row in _compressed(rows)}
    lines = [
        f"Uncompressed: {baseline.metric_name} {baseline.metric:.4f}, ELMo {baseline.elmo_parameters:,} "
        f"parameters (LSTM W_i + W_h {baseline.lstm_matrix_parameters:,}), ELMo forward "
        f"{baseline.elmo_seconds:.2f} s. Cells: {baseline.metric_name} (LSTM W_i + W_h parameters "
        "kept, ELMo forward time relative to uncompressed).",
        "",
        "| method | target | " + " | ".join(f"rank {rank}" for rank in ranks) + " |",
        "|---|---|" + "---|" * len(ranks),
    ]
    for method, target in _ordered_groups(rows):
        entries = []
        for rank in ranks:
            row = cells.get((method, target, rank))
            kept = row.lstm_matrix_parameters / baseline.lstm_matrix_parameters if row else 0.0
            entries.append(f"{row.metric:.4f} ({kept:.0%}, {row.relative_time:.2f}x)" if row else "-")
        lines.append(f"| {method} | {target} | " + " | ".join(entries) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(rows: Sequence[SweepRow], path: str) -> None:
    with atomic_output(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as markdown:
            markdown.write(sweep_markdown(rows))


def plot_metric_vs_rank(rows: Sequence[SweepRow], path: str) -> None:
    """One panel per target, one line per method, the uncompressed metric dashed."""
    pyplot = plotting.pyplot()
    baseline = _baseline(rows)
    targets = [target for target in TARGET_CHOICES if any(row.target == target for row in _compressed(rows))]
    figure, axes = pyplot.subplots(1, len(targets), figsize=(4.4 * len(targets), 4.2), sharey=True, squeeze=False)
    for axis, target in zip(axes[0], targets):
        for method in METHODS:
            points = sorted(
                (row.rank, row.metric) for row in _compressed(rows) if (row.method, row.target) == (method, target)
            )
            if points:
                axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=method)
        axis.axhline(baseline.metric, color="gray", linestyle="--", label="uncompressed")
        axis.set_title({"input": "W_i compressed", "recurrent": "W_h compressed", "both": "W_i and W_h"}[target])
        axis.set_xlabel("rank (prune: same parameter count)")
        axis.set_xticks(sorted({int(row.rank) for row in _compressed(rows)}))
        axis.grid(True, alpha=0.3)
    axes[0][0].set_ylabel(baseline.metric_name)
    axes[0][-1].legend()
    figure.suptitle(f"{baseline.metric_name} after post-training compression of ELMo, by rank")
    figure.tight_layout()
    plotting.save_png(figure, path)


def plot_metric_vs_parameters(rows: Sequence[SweepRow], path: str) -> None:
    """Metric against ELMo parameters, one marker per method, one colour per target."""
    pyplot = plotting.pyplot()
    baseline = _baseline(rows)
    markers = dict(zip(METHODS, "os^"))
    colours = dict(zip(TARGET_CHOICES, ("tab:blue", "tab:orange", "tab:green")))
    figure, axis = pyplot.subplots(figsize=(7, 4.6))
    for method, target in _ordered_groups(rows):
        points = sorted(
            (row.elmo_parameters, row.metric)
            for row in _compressed(rows)
            if (row.method, row.target) == (method, target)
        )
        axis.plot(
            [p[0] / 1e6 for p in points],
            [p[1] for p in points],
            marker=markers[method],
            color=colours[target],
            linestyle="-" if method != "prune" else ":",
            label=f"{method}, {target}",
        )
    axis.scatter([baseline.elmo_parameters / 1e6], [baseline.metric], color="black", marker="*", s=120, zorder=3)
    axis.annotate(
        "uncompressed",
        (baseline.elmo_parameters / 1e6, baseline.metric),
        xytext=(-70, 8),
        textcoords="offset points",
    )
    axis.set_xlabel("ELMo parameters (millions)")
    axis.set_ylabel(baseline.metric_name)
    axis.set_title(f"{baseline.metric_name} vs. ELMo size after compression")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    plotting.save_png(figure, path)
