"""
The analysis as data and as text: the JSON document with every number, and its Markdown summary.
"""

import json
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence

from elmo_compress.analysis.matrices import KIND_LABELS, LSTM_KINDS
from elmo_compress.analysis.plots import Analyzed
from elmo_compress.analysis.recommend import Recommendation
from elmo_compress.analysis.spectrum import ENERGY_LEVELS
from elmo_compress.analysis.sweep import CORRELATED_NORMS
from elmo_compress.outputs import atomic_write_text
from elmo_compress.reporting.tables import format_markdown_table
from elmo_compress.weights import DIRECTIONS

FORMAT = "elmo_compress/analysis"
FORMAT_VERSION = 1
SCALARS = ("entropy_effective_rank", "stable_rank", "frobenius_norm", "l1_norm", "nuclear_norm", "row_l1_std")
DEFINITIONS = {
    "layout": "PyTorch layout, rows = outputs: W_i and W_h are (4 * cell, projection), gate rows i, f, g, o",
    "entropy_effective_rank": "exp(H(p)), p = s / sum(s) (Roy & Vetterli 2007)",
    "energy_ranks": "smallest r with sum(s[:r]^2) / sum(s^2) >= level",
    "stable_rank": "||W||_F^2 / ||W||_2^2",
    "l1_norm": "sum_ij |w_ij|",
    "nuclear_norm": "sum_i s_i",
    "row_l1_std": "population std of the row L1 norms sum_j |w_ij|",
    "svd_error": "||W - W_r||_F / ||W||_F of the rank-r truncated SVD",
    "prune_error": "||W - P(W)||_F / ||W||_F of magnitude pruning keeping min(r (m + n), m n) entries",
    "target_summary": "means over the cells (layers and directions) of each LSTM matrix kind",
}


def error_ranks(full_rank: int) -> List[int]:
    """The ranks the summary tables show: 1/8, 1/4 and 1/2 of full rank (at least 1)."""
    return sorted({max(1, full_rank // 8), max(1, full_rank // 4), max(1, full_rank // 2)})


def prune_wins_from(svd_error: Sequence[float], prune_error: Sequence[float]) -> Optional[int]:
    """The first rank at which pruning's error is below the SVD's, `None` if never."""
    return next((rank for rank, (svd, prune) in enumerate(zip(svd_error, prune_error), 1) if prune < svd), None)


def matrix_record(analyzed: Analyzed) -> Dict[str, Any]:
    matrix, stats = analyzed
    return {
        "name": matrix.name,
        "kind": matrix.kind,
        "layer": matrix.layer,
        "direction": None if matrix.direction is None else DIRECTIONS[matrix.direction],
        **asdict(stats),
        "prune_below_svd_from_rank": prune_wins_from(stats.svd_error, stats.prune_error),
    }


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def target_summary(analyzed: Sequence[Analyzed]) -> Dict[str, Dict[str, Any]]:
    """Per LSTM matrix kind (W_i, W_h, W_P): the means over cells of the scalar statistics."""
    summary = {}
    for kind in LSTM_KINDS:
        stats = [stats for matrix, stats in analyzed if matrix.kind == kind and matrix.is_lstm]
        full_rank = min(stats[0].shape)
        ranks = error_ranks(full_rank)
        summary[kind] = {
            "matrices": len(stats),
            "shape": stats[0].shape,
            **{name: _mean([getattr(s, name) for s in stats]) for name in SCALARS},
            "energy_ranks": {
                str(level): _mean([s.energy_ranks[str(level)] for s in stats]) for level in ENERGY_LEVELS
            },
            "svd_error": {str(rank): _mean([s.svd_error[rank - 1] for s in stats]) for rank in ranks},
            "prune_error": {str(rank): _mean([s.prune_error[rank - 1] for s in stats]) for rank in ranks},
        }
    return summary


def analysis_document(
    analyzed: Sequence[Analyzed],
    recommendation: Recommendation,
    source: Dict[str, str],
    sweep: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """
    Every number of the analysis as one JSON-able object.

    # Parameters

    analyzed : `Sequence[Tuple[NamedMatrix, MatrixStatistics]]`
        LSTM matrices first, then the context matrices.
    recommendation : `Recommendation`
    source : `Dict[str, str]`
        What was analyzed (file names and the weights' sha256).
    sweep : `Dict[str, Any]`, optional (default = `None`)
        `correlation_view` of a sweep CSV.
    """
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "source": source,
        "definitions": DEFINITIONS,
        "target_summary": target_summary(analyzed),
        "matrices": [matrix_record(item) for item in analyzed],
        "recommendation": recommendation.to_dict(),
        "sweep": sweep,
    }


def write_json(path: str, document: Any) -> None:
    """`document` as indented JSON, atomically."""
    write_text(path, json.dumps(document, indent=1) + "\n")


def write_text(path: str, text: str) -> None:
    atomic_write_text(path, text)


def _number(value: float) -> str:
    return f"{value:.4g}"


def _statistics_table(records: Sequence[Dict[str, Any]]) -> str:
    headers = ["matrix", "shape", "entropy eff. rank", "stable rank"]
    headers += [f"{level:.0%} energy rank" for level in ENERGY_LEVELS]
    headers += ["L1 norm", "nuclear norm", "row-L1 std", "Frobenius"]
    rows = [
        [record["name"], "x".join(map(str, record["shape"])), _number(record["entropy_effective_rank"])]
        + [_number(record["stable_rank"])]
        + [record["energy_ranks"][str(level)] for level in ENERGY_LEVELS]
        + [_number(record[name]) for name in ("l1_norm", "nuclear_norm", "row_l1_std", "frobenius_norm")]
        for record in records
    ]
    return format_markdown_table(headers, rows)


def _errors_table(records: Sequence[Dict[str, Any]]) -> str:
    ranks = error_ranks(min(records[0]["shape"]))
    headers = ["matrix"] + [f"r={rank}: SVD / prune" for rank in ranks] + ["prune below SVD from rank"]
    rows = []
    for record in records:
        cells = [f"{record['svd_error'][r - 1]:.3f} / {record['prune_error'][r - 1]:.3f}" for r in ranks]
        wins = record["prune_below_svd_from_rank"]
        rows.append([record["name"]] + cells + ["never" if wins is None else wins])
    return format_markdown_table(headers, rows)


def _summary_table(summary: Dict[str, Dict[str, Any]]) -> str:
    headers = ["statistic (mean over cells)"] + [f"{KIND_LABELS[kind]} ({kind})" for kind in summary]
    names = list(SCALARS) + [f"energy_ranks {level}" for level in ENERGY_LEVELS]
    names += [
        f"{method} {rank}" for method in ("svd_error", "prune_error") for rank in summary["input"]["svd_error"]
    ]

    def value(kind: str, name: str) -> str:
        if " " in name:
            group, key = name.split(" ")
            return _number(summary[kind][group][key])
        return _number(summary[kind][name])

    rows = [[name.replace(" ", " at ")] + [value(kind, name) for kind in summary] for name in names]
    return format_markdown_table(headers, rows)


def _bilm_parameters(recommendation: Dict[str, Any]) -> str:
    if "bilm_parameters_before" not in recommendation:
        return ""
    before, after = recommendation["bilm_parameters_before"], recommendation["bilm_parameters_after"]
    return f" Whole biLM: {before:,} -> {after:,} parameters ({after / before:.1%})."


def _recommendation_section(recommendation: Dict[str, Any]) -> List[str]:
    budget = recommendation["budget"]
    headers = ["layer", "direction", "target", "minimal rank", "block rank", "SVD error", "energy", "params"]
    rows = [
        [m["layer"], DIRECTIONS[m["direction"]], m["target"], m["minimal_rank"], m["rank"]]
        + [f"{m['svd_error']:.4f}", f"{m['energy']:.4f}", f"{m['dense_parameters']:,} -> {m['parameters']:,}"]
        for m in recommendation["matrices"]
    ]
    before, after = recommendation["parameters_before"], recommendation["parameters_after"]
    return [
        f"## Recommended ranks ({budget['kind']} budget {budget['value']:g})",
        "",
        "The smallest truncated-SVD rank per matrix that meets the budget; the block gives both directions of a "
        "layer the larger of their two ranks.",
        "",
        format_markdown_table(headers, rows),
        "",
        f"W_i + W_h parameters: {before:,} -> {after:,} ({after / before:.1%}); multiply-accumulates per token of "
        f"the W_i and W_h products: {recommendation['macs_per_token_before']:,} -> "
        f"{recommendation['macs_per_token_after']:,}.{_bilm_parameters(recommendation)}",
        "",
        "Compression block (`recommended_compression.json`, for `compress-elmo compress --compression` or a "
        "config's `compression`):",
        "",
        "```json",
        json.dumps(recommendation["compression"], indent=1),
        "```",
        "",
    ]


def _sweep_section(sweep: Dict[str, Any]) -> List[str]:
    headers = ["metric", "method", "rank", "drop, W_i compressed", "drop, W_h compressed", "drop, both"]
    table: Dict[tuple, Dict[str, float]] = {}
    for point in sweep["points"]:
        key = (point["metric_name"], point["method"], point["rank"])
        table.setdefault(key, {})[point["target"]] = point["metric_drop"]
    rows = [
        list(key) + [_number(d[t]) if t in d else "-" for t in ("input", "recurrent", "both")]
        for key, d in sorted(table.items())
    ]
    norms = sweep["norms"]
    lines = ["## Norms vs metric drop (sweep)", ""]
    lines += [
        f"- {norm}: W_i {_number(norms['input'][norm])}, W_h {_number(norms['recurrent'][norm])}"
        for norm in CORRELATED_NORMS
    ]
    lines += ["", format_markdown_table(headers, rows), ""]
    for metric, methods in sorted(sweep["agreement"].items()):
        for method, counts in sorted(methods.items()):
            agree = ", ".join(f"{norm} {counts[norm]}" for norm in CORRELATED_NORMS)
            lines.append(
                f"- {metric}, {method}: of {counts['ranks']} ranks with both a W_i and a W_h row, the target with "
                f"the larger norm lost more at: {agree}."
            )
    return lines + [""]


def markdown_report(document: Dict[str, Any], figures: Sequence[str]) -> str:
    """The Markdown summary of `analysis_document`'s output; `figures` are the PNG file names written."""
    source = document["source"]
    records = document["matrices"]
    lstm = [record for record in records if record["kind"] in ("input", "recurrent")]
    lines = [
        f"# Matrix analysis of {source['weight_file']}",
        "",
        f"Weights sha256 {source['weights_sha256']}. All numbers, with the full spectra and error curves, are in "
        "`analysis.json`; definitions there under `definitions`.",
        "",
        "## W_i vs W_h",
        "",
        _summary_table(document["target_summary"]),
        "",
        "## Every matrix",
        "",
        _statistics_table(records),
        "",
        "## Relative error at equal parameter count (truncated SVD / magnitude pruning)",
        "",
        _errors_table(lstm),
        "",
    ]
    lines += _recommendation_section(document["recommendation"])
    if document["sweep"] is not None:
        lines += _sweep_section(document["sweep"])
    lines += ["## Figures", ""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"
