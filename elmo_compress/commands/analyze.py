"""
`compress-elmo analyze`: what the matrices of an ELMo biLM say about compressing them. Writes
`analysis.json` (every number), `analysis.md` (summary), `recommended_compression.json` (a compression block
meeting a budget) and PNG figures to OUT_DIR; with `--sweep`, adds the norm vs metric-drop view.
"""

import argparse
import os
from typing import Any, Dict, List, Optional, Sequence

from elmo_compress.analysis import (
    Budget,
    analysis_matrices,
    analyze_matrix,
    correlation_view,
    read_sweep,
    recommend_ranks,
)
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
from elmo_compress.analysis.report import analysis_document, markdown_report, write_json, write_text
from elmo_compress.analysis.sweep import CORRELATED_NORMS
from elmo_compress.factorize import TARGET_CHOICES
from elmo_compress.weights import DIRECTIONS, TARGETS, ElmoWeights, file_sha256

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


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "analyze",
        description="Singular value spectra, effective ranks, norms and SVD vs pruning error of every LSTM "
        "matrix (projection and highway as context), a rank recommendation for a budget, and, with --sweep, "
        "norms vs metric drop. Writes analysis.json, analysis.md, recommended_compression.json and PNGs.",
        help="analyze the matrices of an ELMo biLM",
    )
    parser.add_argument("options_file", help="ELMo options.json")
    parser.add_argument("weight_file", help="official (uncompressed) ELMo weights.hdf5")
    parser.add_argument("-o", "--output-dir", required=True, help="folder for the outputs")
    parser.add_argument(
        "--sweep", metavar="CSV", help="sweep CSV (method, target, rank, metric_name, metric_drop)"
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--energy-budget",
        type=float,
        help="recommend ranks keeping this share of sum(s^2), in (0, 1] (default 0.9)",
    )
    budget.add_argument(
        "--error-budget", type=float, help="recommend ranks with relative SVD error at most this, in (0, 1]"
    )
    parser.add_argument(
        "--target",
        choices=TARGET_CHOICES,
        default="both",
        help="matrices the recommendation compresses (default: both)",
    )
    parser.set_defaults(func=run_analyze)
    return parser


def _write_figures(analyzed: Sequence[Analyzed], sweep: Optional[Dict[str, Any]], output_dir: str) -> List[str]:
    for name, plot in FIGURES.items():
        plot(analyzed, os.path.join(output_dir, name))
    names = list(FIGURES)
    matrices = [matrix for matrix, _ in analyzed]
    limit = heatmap_limit(matrices)
    for layer, direction in sorted({(m.layer, m.direction) for m in matrices if m.kind in TARGETS}):
        name = HEATMAP_NAME.format(layer=layer, direction=DIRECTIONS[direction])
        cell = [m for m in matrices if m.kind in TARGETS and (m.layer, m.direction) == (layer, direction)]
        plot_heatmaps(cell, limit, os.path.join(output_dir, name))
        names.append(name)
    if sweep is not None:
        plot_norm_vs_drop(sweep, os.path.join(output_dir, SWEEP_FIGURE_NAME))
        names.append(SWEEP_FIGURE_NAME)
    return names


def write_analysis(
    options_file: str,
    weight_file: str,
    output_dir: str,
    sweep_csv: Optional[str] = None,
    budget: Budget = DEFAULT_BUDGET,
    target: str = "both",
) -> Dict[str, Any]:
    """
    Analyze a biLM and write the outputs; every input is read and checked before anything is written.

    # Parameters

    options_file : `str`
        ELMo options.json.
    weight_file : `str`
        Official ELMo weights.hdf5 (not a compressed one).
    output_dir : `str`
        Created if missing; gets `analysis.json`, `analysis.md`, `recommended_compression.json` and PNGs.
    sweep_csv : `str`, optional (default = `None`)
        A sweep CSV for the norm vs metric-drop view.
    budget : `Budget`, optional (default = energy 0.9)
        What the recommended ranks must meet.
    target : `str`, optional (default = `"both"`)
        Which matrices the recommendation compresses.

    # Returns

    document : `Dict[str, Any]`
        The contents of `analysis.json`.
    """
    weights = ElmoWeights.load(options_file, weight_file)
    points = read_sweep(sweep_csv) if sweep_csv is not None else None
    matrices = analysis_matrices(weights)
    lstm = {(m.layer, m.direction, m.kind): m.weight for m in matrices if m.is_lstm and m.kind in TARGETS}
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
        norms = {kind: {norm: summary[kind][norm] for norm in CORRELATED_NORMS} for kind in TARGETS}
        document["sweep"] = correlation_view(points, norms)
    os.makedirs(output_dir, exist_ok=True)
    figures = _write_figures(analyzed, document["sweep"], output_dir)
    write_json(os.path.join(output_dir, BLOCK_NAME), recommendation.spec.to_dict())
    write_json(os.path.join(output_dir, JSON_NAME), document)
    write_text(os.path.join(output_dir, MARKDOWN_NAME), markdown_report(document, figures))
    return document


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


def run_analyze(args: argparse.Namespace) -> None:
    if args.error_budget is not None:
        budget = Budget("error", args.error_budget)
    elif args.energy_budget is not None:
        budget = Budget("energy", args.energy_budget)
    else:
        budget = DEFAULT_BUDGET
    document = write_analysis(
        args.options_file, args.weight_file, args.output_dir, args.sweep, budget, args.target
    )
    print(describe(document))
    print(f"wrote {JSON_NAME}, {MARKDOWN_NAME}, {BLOCK_NAME} and the figures to {args.output_dir}")
