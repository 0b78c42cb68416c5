"""
The analysis of a biLM's matrices, run and written: `write_analysis` reads and checks every input, then
writes `analysis.json`, `analysis.md`, `recommended_compression.json` and the figures as one set.
"""

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from elmo_compress.analysis.matrices import analysis_matrices
from elmo_compress.analysis.plots import (
    Analyzed,
    heatmap_limit,
    plot_energy,
    plot_errors,
    plot_heatmaps,
    plot_norm_vs_drop,
    plot_norms,
    plot_spectra,
)
from elmo_compress.analysis.recommend import Budget, recommend_ranks
from elmo_compress.analysis.report import analysis_document, markdown_report, write_json, write_text
from elmo_compress.analysis.spectrum import analyze_matrix
from elmo_compress.analysis.sweep import CORRELATED_NORMS, correlation_view, read_sweep
from elmo_compress.constants import DIRECTIONS, MATRIX_TARGETS
from elmo_compress.outputs import OutputFolder
from elmo_compress.weights import ElmoOptions, ElmoWeights, file_sha256

DEFAULT_BUDGET = Budget("energy", 0.9)
JSON_NAME = "analysis.json"
MARKDOWN_NAME = "analysis.md"
BLOCK_NAME = "recommended_compression.json"
FIGURES = {
    "spectra.png": plot_spectra,
    "energy.png": plot_energy,
    "error_vs_rank.png": plot_errors,
    "norms.png": plot_norms,
}
HEATMAP_NAME = "heatmap_layer{layer}_{direction}.png"
SWEEP_FIGURE_NAME = "norm_vs_drop.png"




def output_names(options: ElmoOptions, with_sweep: bool) -> List[str]:
    """Every file `write_analysis` writes for a biLM of these options."""
    names = [JSON_NAME, MARKDOWN_NAME, BLOCK_NAME] + list(FIGURES)
    names += [
        HEATMAP_NAME.format(layer=layer, direction=DIRECTIONS[direction])
        for layer in range(options.num_layers)
        for direction in (0, 1)
    ]
    return names + ([SWEEP_FIGURE_NAME] if with_sweep else [])


def _write_figures(analyzed: Sequence[Analyzed], sweep: Optional[Dict[str, Any]], output: OutputFolder) -> List[str]:
    for name, plot in FIGURES.items():
        plot(analyzed, output.path(name))
    names = list(FIGURES)
    matrices = [matrix for matrix, _ in analyzed]
    limit = heatmap_limit(matrices)
    for layer, direction in sorted({(m.layer, m.direction) for m in matrices if m.kind in MATRIX_TARGETS}):
        name = HEATMAP_NAME.format(layer=layer, direction=DIRECTIONS[direction])
        cell = [m for m in matrices if m.kind in MATRIX_TARGETS and (m.layer, m.direction) == (layer, direction)]
        plot_heatmaps(cell, limit, output.path(name))
        names.append(name)
    if sweep is not None:
        plot_norm_vs_drop(sweep, output.path(SWEEP_FIGURE_NAME))
        names.append(SWEEP_FIGURE_NAME)
    return names


def write_analysis(
    options_file: str,
    weight_file: str,
    output_dir: str,
    sweep_csv: Optional[str] = None,
    budget: Budget = DEFAULT_BUDGET,
    target: str = "both",
    force: bool = False,
) -> Dict[str, Any]:
    """
    Analyze a biLM and write the outputs; every input is read and checked before anything is written.

    # Parameters

    options_file : `str`
        ELMo options.json.
    weight_file : `str`
        Official ELMo weights.hdf5 (not a compressed one).
    output_dir : `str`
        Gets `analysis.json`, `analysis.md`, `recommended_compression.json` and PNGs, as a set.
    sweep_csv : `str`, optional (default = `None`)
        A sweep CSV for the norm vs metric-drop view.
    budget : `Budget`, optional (default = energy 0.9)
        What the recommended ranks must meet.
    target : `str`, optional (default = `"both"`)
        Which matrices the recommendation compresses.
    force : `bool`, optional (default = `False`)
        Replace existing outputs.

    # Returns

    document : `Dict[str, Any]`
        The contents of `analysis.json`.
    """
    options = ElmoOptions.from_file(options_file)
    inputs = (options_file, weight_file, sweep_csv)
    output = OutputFolder(output_dir, inputs, output_names(options, sweep_csv is not None), force)
    with output:
        document, analyzed, block = _analyze(options, options_file, weight_file, sweep_csv, budget, target)
        figures = _write_figures(analyzed, document["sweep"], output)
        write_json(output.path(BLOCK_NAME), block)
        write_json(output.path(JSON_NAME), document)
        write_text(output.path(MARKDOWN_NAME), markdown_report(document, figures))
    return document


def _analyze(
    options: ElmoOptions, options_file: str, weight_file: str, sweep_csv: Optional[str], budget: Budget, target: str
) -> Tuple[Dict[str, Any], List[Analyzed], Dict[str, Any]]:
    """(the analysis.json document, the analyzed matrices, the recommended compression block)."""
    weights = ElmoWeights.from_file(options, weight_file)
    points = read_sweep(sweep_csv) if sweep_csv is not None else None
    matrices = analysis_matrices(weights)
    lstm = {(m.layer, m.direction, m.kind): m.weight for m in matrices if m.is_lstm and m.kind in MATRIX_TARGETS}
    recommendation = recommend_ranks(lstm, budget, target)
    analyzed = [(matrix, analyze_matrix(matrix.weight)) for matrix in matrices]
    source = {
        "options_file": os.path.basename(options_file),
        "weight_file": os.path.basename(weight_file),
        "weights_sha256": file_sha256(weight_file),
    }
    document = analysis_document(analyzed, recommendation, source)
    saved = recommendation.parameters_before - recommendation.parameters_after
    document["recommendation"]["bilm_parameters_before"] = weights.num_parameters()
    document["recommendation"]["bilm_parameters_after"] = weights.num_parameters() - saved
    if points is not None:
        summary = document["target_summary"]
        norms = {kind: {norm: summary[kind][norm] for norm in CORRELATED_NORMS} for kind in MATRIX_TARGETS}
        document["sweep"] = correlation_view(points, norms)
    return document, analyzed, recommendation.spec.to_dict()


def describe(document: Dict[str, Any]) -> str:
    """A few lines for the terminal: W_i vs W_h at a glance and the recommendation."""
    lines = []
    for kind, label in (("input", "W_i"), ("recurrent", "W_h")):
        stats = document["target_summary"][kind]
        energy = ", ".join(f"{float(level):.0%}: {rank:g}" for level, rank in stats["energy_ranks"].items())
        lines.append(
            f"{label} (mean of {stats['matrices']}): "
            f"entropy effective rank {stats['entropy_effective_rank']:.1f}, "
            f"energy ranks {energy}, L1 {stats['l1_norm']:.1f}, nuclear {stats['nuclear_norm']:.1f}, "
            f"row-L1 std {stats['row_l1_std']:.3f}"
        )
    recommendation = document["recommendation"]
    before, after = recommendation["parameters_before"], recommendation["parameters_after"]
    lines.append(
        f"recommended ({recommendation['budget']['kind']} budget {recommendation['budget']['value']:g}): "
        f"W_i + W_h parameters {before:,} -> {after:,} ({after / before:.1%})"
    )
    return "\n".join(lines)
