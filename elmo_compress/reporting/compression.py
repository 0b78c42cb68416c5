"""The per-matrix table that `compress`, `archive` and `shrink` print, with the totals."""

from typing import List, Optional, Sequence

from elmo_compress.factorize import break_even_rank
from elmo_compress.reporting.tables import format_table
from elmo_compress.weights import ElmoWeights, MatrixReport


def _rank(report: MatrixReport) -> str:
    if report.rank is None:
        return "-"
    larger = report.method != "prune" and report.rank >= break_even_rank(report.shape)
    return f"{report.rank} (larger than dense)" if larger else str(report.rank)


def compression_summary(
    reports: Sequence[MatrixReport], original: Optional[ElmoWeights] = None, compressed: Optional[ElmoWeights] = None
) -> str:
    """Per matrix: shape, method, rank, parameters before and after, relative error; then the totals."""
    headers = ["matrix", "shape", "method", "rank", "params before", "params after", "rel. error"]
    rows: List[List[object]] = [
        [
            f"layer {r.layer} {r.direction} {r.target}",
            f"{r.shape[0]}x{r.shape[1]}",
            r.method,
            _rank(r),
            f"{r.parameters_before:,}",
            f"{r.parameters_after:,}",
            f"{r.relative_error:.4f}",
        ]
        for r in reports
    ]
    before = sum(r.parameters_before for r in reports)
    after = sum(r.parameters_after for r in reports)
    rows.append(["LSTM W_i + W_h total", "", "", "", f"{before:,}", f"{after:,}", ""])
    lines = [format_table(headers, rows)]
    lines.append(f"LSTM W_i + W_h parameters: {before:,} -> {after:,} ({after / before:.1%})")
    if original is not None and compressed is not None:
        total_before, total_after = original.num_parameters(), compressed.num_parameters()
        lines.append(
            f"whole biLM parameters:     {total_before:,} -> {total_after:,} ({total_after / total_before:.1%})"
        )
    if any("larger than dense" in str(row[3]) for row in rows):
        lines.append("note: a rank at or above m n / (m + n) stores more numbers than the dense matrix")
    return "\n".join(lines)
