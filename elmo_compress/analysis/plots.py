"""
The analysis figures, one question each: how fast do the singular values of W_i and W_h decay (`spectra`),
how much energy does a rank keep (`energy`), does SVD or pruning lose less at the same size (`errors`), what
do the matrices look like (`heatmaps`), how do the norms compare (`norms`), and do the norms go with the
metric drop of a sweep (`norm_vs_drop`). Each writes one PNG atomically.
"""

import io
import math
from typing import Any, Dict, List, Sequence, Tuple

import torch

from elmo_compress.analysis.matrices import KIND_LABELS, NamedMatrix
from elmo_compress.analysis.spectrum import ENERGY_LEVELS, MatrixStatistics
from elmo_compress.reporting import plotting
from elmo_compress.analysis.sweep import CORRELATED_NORMS
from elmo_compress.outputs import atomic_write_bytes
from elmo_compress.weights import DIRECTIONS

Analyzed = Tuple[NamedMatrix, MatrixStatistics]

TARGET_COLORS = {"input": "tab:blue", "recurrent": "tab:orange"}
METHOD_COLORS = {"svd": "tab:blue", "semi_nmf": "tab:green", "prune": "tab:red"}
CELL_STYLES = ("-", "--", "-.", ":")  # layer 0 forward, layer 0 backward, layer 1 forward, ...
NORM_LABELS = {
    "l1_norm": "L1 norm (sum |w|)",
    "nuclear_norm": "nuclear norm (sum of s)",
    "row_l1_std": "std of row L1 norms",
}
GATES = ("i", "f", "g", "o")  # allennlp's gate order along the 4 * cell rows
DPI = 100
PALETTE_COLORS = 64


def _pyplot() -> Any:
    pyplot = plotting.pyplot()
    pyplot.rcParams.update({"font.size": 10, "axes.titlesize": 11})
    return pyplot


def _save(figure: Any, path: str, tight: bool = True) -> None:
    """Write `figure` as a PNG with a 64-color palette (a quarter of the bytes, same look), atomically."""
    from PIL import Image

    if tight:
        figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=DPI, format="png")
    _pyplot().close(figure)
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(colors=PALETTE_COLORS)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", optimize=True)
    atomic_write_bytes(path, buffer.getvalue())


def _plain_numbers() -> Any:
    """Tick labels such as 3 and 0.5 instead of 3x10^0 on a log axis."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:g}")


def _style(matrix: NamedMatrix) -> str:
    return CELL_STYLES[(2 * matrix.layer + matrix.direction) % len(CELL_STYLES)]


def _targets(analyzed: Sequence[Analyzed]) -> List[Analyzed]:
    return [(matrix, stats) for matrix, stats in analyzed if matrix.kind in TARGET_COLORS]


def plot_spectra(analyzed: Sequence[Analyzed], path: str) -> None:
    """Singular values of every W_i and W_h against their index, log scale."""
    pyplot = _pyplot()
    figure, axis = pyplot.subplots(figsize=(7.5, 4.8))
    for matrix, stats in _targets(analyzed):
        indices = range(1, len(stats.singular_values) + 1)
        axis.plot(
            indices, stats.singular_values, _style(matrix), color=TARGET_COLORS[matrix.kind], label=matrix.name
        )
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(_plain_numbers())
    axis.yaxis.set_minor_formatter(_plain_numbers())
    axis.set_xlabel("index i of the singular value")
    axis.set_ylabel("singular value s_i (log scale)")
    axis.set_title("Singular value spectra of the LSTM matrices")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8, ncol=2)
    _save(figure, path)


def plot_energy(analyzed: Sequence[Analyzed], path: str) -> None:
    """Share of the squared Frobenius norm that rank r keeps, for every W_i and W_h."""
    pyplot = _pyplot()
    figure, axis = pyplot.subplots(figsize=(7.5, 4.8))
    for matrix, stats in _targets(analyzed):
        axis.plot(stats.ranks, stats.energy, _style(matrix), color=TARGET_COLORS[matrix.kind], label=matrix.name)
    for level in ENERGY_LEVELS:
        axis.axhline(level, color="gray", linewidth=0.8, linestyle=":")
        axis.annotate(
            f"{level:.0%}", (1, level), textcoords="offset points", xytext=(2, 2), fontsize=8, color="gray"
        )
    axis.set_xlabel("rank r")
    axis.set_ylabel("energy kept: sum(s[:r]^2) / sum(s^2)")
    axis.set_title("Energy kept by a rank-r truncated SVD")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8, ncol=2, loc="lower right")
    _save(figure, path)


def plot_errors(analyzed: Sequence[Analyzed], path: str) -> None:
    """Relative error of SVD and of pruning at the same parameter count, W_i and W_h side by side."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    for axis, target in zip(axes, TARGET_COLORS):
        for matrix, stats in _targets(analyzed):
            if matrix.kind != target:
                continue
            cell = f"layer {matrix.layer} {DIRECTIONS[matrix.direction]}"
            style = _style(matrix)
            axis.plot(stats.ranks, stats.svd_error, style, color=METHOD_COLORS["svd"], label=f"SVD, {cell}")
            axis.plot(stats.ranks, stats.prune_error, style, color=METHOD_COLORS["prune"], label=f"prune, {cell}")
        axis.set_title(f"{KIND_LABELS[target]} ({target})")
        axis.set_xlabel("rank r (pruning keeps r(m+n) entries, the same count)")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel("relative error ||W - W'||_F / ||W||_F")
    figure.suptitle("Reconstruction error at equal parameter count: truncated SVD vs magnitude pruning")
    _save(figure, path)


def _gate_ticks(axis: Any, rows: int) -> None:
    """Mark the four gate blocks along the (transposed) 4 * cell axis."""
    block = rows // len(GATES)
    for boundary in range(block, rows, block):
        axis.axvline(boundary - 0.5, color="black", linewidth=0.6)
    axis.set_xticks([block * (index + 0.5) for index in range(len(GATES))])
    axis.set_xticklabels([f"gate {gate}" for gate in GATES])


def heatmap_limit(matrices: Sequence[NamedMatrix]) -> float:
    """The 99.5th percentile of |w| over every W_i and W_h: one symmetric color scale for all heatmaps."""
    magnitudes = torch.cat(
        [matrix.weight.detach().abs().reshape(-1).double() for matrix in matrices if matrix.kind in TARGET_COLORS]
    )
    # torch.quantile takes at most 2^24 values; an evenly strided sample stands for the rest.
    return float(torch.quantile(magnitudes[:: 1 + magnitudes.numel() // 2**24], 0.995))


def plot_heatmaps(matrices: Sequence[NamedMatrix], limit: float, path: str) -> None:
    """
    W_i above W_h of one cell, transposed (input unit x gate row), colors clipped at +-`limit`.

    # Parameters

    matrices : `Sequence[NamedMatrix]`
        The cell's W_i and W_h.
    limit : `float`
        The color scale's end, e.g. `heatmap_limit` of all cells so that every figure shares it.
    path : `str`
        The PNG to write.
    """
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(
        len(matrices), 1, figsize=(11, 1.6 * len(matrices) + 0.9), constrained_layout=True
    )
    for axis, matrix in zip(axes, matrices):
        # shape: (n, m), so the long gate axis runs across the page
        weight = matrix.weight.detach().t().numpy()
        image = axis.imshow(weight, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
        axis.set_title(
            f"{KIND_LABELS[matrix.kind]} ({matrix.kind}), {weight.shape[1]} x {weight.shape[0]}", loc="left"
        )
        axis.set_ylabel("input unit")
        _gate_ticks(axis, weight.shape[1])
    colorbar = figure.colorbar(image, ax=list(axes), fraction=0.03, pad=0.01)
    colorbar.set_label(f"weight (clipped at +-{limit:.2f})")
    cell = matrices[0]
    figure.suptitle(
        f"Layer {cell.layer} {DIRECTIONS[cell.direction]} cell: weights by gate row (allennlp order i, f, g, o)"
    )
    _save(figure, path, tight=False)


def plot_norms(analyzed: Sequence[Analyzed], path: str) -> None:
    """The paper's three norms for every matrix, LSTM and context, as horizontal bars."""
    pyplot = _pyplot()
    names = [matrix.name for matrix, _ in analyzed]
    colors = [TARGET_COLORS.get(matrix.kind, "tab:gray") for matrix, _ in analyzed]
    figure, axes = pyplot.subplots(1, len(CORRELATED_NORMS), figsize=(12, 0.3 * len(names) + 1.5), sharey=True)
    for axis, norm in zip(axes, CORRELATED_NORMS):
        axis.barh(range(len(names)), [getattr(stats, norm) for _, stats in analyzed], color=colors)
        axis.set_xlabel(NORM_LABELS[norm])
        axis.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(names)))
    axes[0].set_yticklabels(names, fontsize=8)
    axes[0].invert_yaxis()
    figure.suptitle("Matrix norms (blue W_i, orange W_h, gray: projections and highway, for context)")
    _save(figure, path)


METHOD_GROUPS = {"factorization (SVD, Semi-NMF)": ("svd", "semi_nmf"), "magnitude pruning": ("prune",)}
METHOD_MARKERS = {"svd": ("o", "-"), "semi_nmf": ("^", "--"), "prune": ("s", "-")}


def _norm_ticks(norms: Dict[str, Dict[str, float]]) -> List[str]:
    """Tick labels naming each target with its three norms."""
    return [
        f"{KIND_LABELS[target]} compressed\n"
        + "\n".join(f"{NORM_LABELS[norm].split(' (')[0]} {norms[target][norm]:.4g}" for norm in CORRELATED_NORMS)
        for target in TARGET_COLORS
    ]


def plot_norm_vs_drop(view: Dict[str, Any], path: str) -> None:
    """
    Per metric (rows) and method family (columns): the drop when only W_i or only W_h is compressed, the two
    points of one method and rank joined by a line, and each target's norms under its position.
    """
    pyplot = _pyplot()
    metrics = sorted({point["metric_name"] for point in view["points"]})
    figure, axes = pyplot.subplots(
        len(metrics), len(METHOD_GROUPS), figsize=(11, 5.2 * len(metrics)), sharey="row", squeeze=False
    )
    for row, metric in enumerate(metrics):
        points = [p for p in view["points"] if p["metric_name"] == metric and p["target"] in TARGET_COLORS]
        for axis, (title, methods) in zip(axes[row], METHOD_GROUPS.items()):
            _drop_panel(axis, [p for p in points if p["method"] in methods])
            axis.set_title(f"{title}: {metric}")
            axis.set_xticks(range(len(TARGET_COLORS)))
            axis.set_xticklabels(_norm_ticks(view["norms"]), fontsize=9)
            axis.set_xlim(-0.4, len(TARGET_COLORS) - 0.6)
        axes[row][0].set_ylabel(f"{metric} drop vs uncompressed (positive = worse)")
        _symlog(axes[row][0], [p["metric_drop"] for p in points])
    figure.suptitle("Metric drop when W_i or W_h is compressed, with each target's norms (mean over cells)")
    _save(figure, path)


def _symlog(axis: Any, drops: Sequence[float]) -> None:
    """A log-like y axis that also shows drops at or below zero, when the drops span a wide range."""
    largest = max(abs(drop) for drop in drops)
    if largest > 0:
        threshold = largest / 1000
        axis.set_yscale("symlog", linthresh=threshold)
        axis.yaxis.set_major_formatter(_plain_numbers())
        # Below zero only as far as the drops go: an improvement of a rounding's size gets a sliver.
        bottom, top = min(min(drops), 0.0) * 1.5 - threshold, 2 * max(max(drops), threshold)
        axis.set_ylim(bottom, top)
        # Ticks at 0 and at the powers of ten outside the linear band around it, where labels would collide.
        decades = [10.0**power for power in range(math.ceil(math.log10(threshold)), math.ceil(math.log10(top)))]
        axis.set_yticks([-decade for decade in decades if -decade >= bottom][::-1] + [0.0] + decades)
        axis.set_ylabel(axis.get_ylabel() + "\n(log scale, linear near 0)")
    axis.axhline(0.0, color="gray", linewidth=0.8)


def _drop_panel(axis: Any, points: Sequence[Dict[str, Any]]) -> None:
    """One line per method and rank from its W_i point (x = 0) to its W_h point (x = 1), colored by rank."""
    ranks = sorted({p["rank"] for p in points})
    colors = _pyplot().get_cmap("viridis")
    for method in sorted({p["method"] for p in points}, key=list(METHOD_COLORS).index):
        marker, linestyle = METHOD_MARKERS[method]
        for index, rank in enumerate(ranks):
            drops = {p["target"]: p["metric_drop"] for p in points if p["method"] == method and p["rank"] == rank}
            positions = [x for x, target in enumerate(TARGET_COLORS) if target in drops]
            values = [drops[target] for target in TARGET_COLORS if target in drops]
            color = colors(index / max(1, len(ranks) - 1))
            label = f"{method}, rank {rank}"
            axis.plot(positions, values, linestyle, marker=marker, color=color, label=label, markersize=7)
    axis.grid(True, alpha=0.3)
    if points:
        axis.legend(fontsize=8, ncol=2 if len(ranks) > 4 else 1)
