"""
The sweep's Markdown (the paper's grid: rows method / target, columns rank) and its metric-vs-parameters
figure; the metric-vs-rank figure is the shared one of `elmo_compress.reporting.results`.
"""

from typing import Any, Sequence

from elmo_compress.constants import TARGET_CHOICES
from elmo_compress.reporting import plotting
from elmo_compress.reporting.results import ResultRow, rank_grid


def sweep_markdown(rows: Sequence[ResultRow], methods: Sequence[str], request: Any) -> str:
    """The grid, and how the rows were evaluated."""
    batching = f"batch size {request.batch_size}" if request.batch_size else "the archive's batch size"
    loop = "allennlp's biLSTM loop" if request.allennlp_loop else "the fast biLSTM path, as compressed_elmo runs it"
    how = (
        f"Evaluated as `allennlp evaluate` evaluates an archive: its data loader ({batching}) and random seeds, "
        f"stateful ELMo starting from zero states; compressed rows with {loop}. Speed: `compress-elmo benchmark`."
    )
    return rank_grid(rows, methods) + "\n" + how + "\n"


def plot_metric_vs_parameters(rows: Sequence[ResultRow], methods: Sequence[str], path: str) -> None:
    """Metric against biLM parameters, one marker per method, one colour per target."""
    pyplot = plotting.pyplot()
    baseline = next(row for row in rows if row.is_uncompressed)
    markers = dict(zip(methods, "os^vDP*"))
    colours = dict(zip(TARGET_CHOICES, ("tab:blue", "tab:orange", "tab:green")))
    figure, axis = pyplot.subplots(figsize=(7, 4.6))
    for method in methods:
        for target in TARGET_CHOICES:
            points = sorted(
                (row.bilm_parameters, row.metric)
                for row in rows
                if (row.method, row.target) == (method, target) and row.rank is not None
            )
            if not points:
                continue
            axis.plot(
                [p[0] / 1e6 for p in points],
                [p[1] for p in points],
                marker=markers.get(method, "o"),
                color=colours[target],
                linestyle=":" if method == "prune" else "-",
                label=f"{method}, {target}",
            )
    axis.scatter([baseline.bilm_parameters / 1e6], [baseline.metric], color="black", marker="*", s=120, zorder=3)
    axis.annotate("uncompressed", (baseline.bilm_parameters / 1e6, baseline.metric), xytext=(-70, 8), textcoords="offset points")
    axis.set_xlabel("biLM parameters (millions)")
    axis.set_ylabel(baseline.metric_name)
    axis.set_title(f"{baseline.metric_name} vs. ELMo size after compression")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    plotting.save_png(figure, path)
