"""
The benchmark's results for tools and eyes: `speed.json` (a header, then one object per row) and the
figure (measured speed-up over stock next to the ideal from multiply-adds, one panel per model, scope and
batch shape).
"""

import json
from typing import Dict, List, Optional

import torch

from elmo_compress.benchmark.targets import Results
from elmo_compress.benchmark.timing import Row
from elmo_compress.outputs import write_text
from elmo_compress.reporting import plotting

SCOPE_TITLES = {"bilstm": "biLSTM", "whole_bilm": "whole biLM"}


def _rounded(value: Optional[float], digits: int = 4) -> Optional[float]:
    return None if value is None else round(value, digits)


def row_object(model: str, scope: str, shape: tuple, row: Row, rows: List[Row]) -> Dict[str, object]:
    """One row of speed.json; ratios against the first (stock) row of its table."""
    stock, fast_dense = rows[0], next(r for r in rows if r.setting.label == "fast path dense")
    setting = row.setting
    return {
        "model": model,
        "scope": scope,
        "batch": f"{shape[0]}x{shape[1]}",
        "setting": setting.label,
        "x_stock": _rounded(stock.median / row.median),
        "x_ideal": _rounded(stock.macs / row.macs),
        "deviation": _rounded(row.deviation, 6),
        "ppl_ratio": _rounded(row.ppl_ratio),
        "x_fast_dense": _rounded(fast_dense.median / row.median),
        "int8_deviation": _rounded(row.int8_deviation, 6),
        "cache_hit_rate": _rounded(row.hit_rate),
        "tokens_per_second": round(row.tokens_per_second, 1),
        "seconds_median": round(row.median, 6),
        "seconds": [round(seconds, 6) for seconds in row.seconds],
        "macs_per_token": row.macs,
        "loop": setting.loop,
        "target": setting.target,
        "rank": setting.rank,
        "int8": setting.int8,
        "char_cache": setting.cache,
    }


def write_speed_json(path: str, header: Dict[str, object], results: Results) -> None:
    rows = [
        row_object(model, scope, shape, row, table)
        for model, scopes in results.items()
        for scope, shapes in scopes.items()
        for shape, table in shapes.items()
        for row in table
    ]
    write_text(path, json.dumps({"header": header, "rows": rows}, indent=1) + "\n")


def plot_speedups(results: Results, path: str) -> None:
    pyplot = plotting.pyplot()
    panels = [
        (model, scope, shape) for model, scopes in results.items() for scope, shapes in scopes.items() for shape in shapes
    ]
    columns = 2
    lines = (len(panels) + columns - 1) // columns
    figure, axes = pyplot.subplots(lines, columns, figsize=(14, 5.5 * lines), squeeze=False)
    for axis, (model, scope, shape) in zip(axes.flat, panels):
        rows = results[model][scope][shape]
        positions = list(range(len(rows)))
        axis.barh(positions, [rows[0].median / row.median for row in rows], color="tab:blue", label="measured")
        ideal = [rows[0].macs / row.macs for row in rows]
        axis.scatter(ideal, positions, color="black", marker="|", s=200, zorder=3, label="ideal from MACs")
        axis.axvline(1.0, color="gray", linestyle="--", linewidth=1)
        axis.set_yticks(positions)
        axis.set_yticklabels([row.setting.label for row in rows], fontsize=8)
        axis.invert_yaxis()
        axis.set_xlabel("speed-up over stock allennlp (x)")
        axis.set_title(f"{model} {SCOPE_TITLES[scope]}, batch {shape[0]} x {shape[1]}")
        axis.grid(True, axis="x", alpha=0.3)
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    axes.flat[0].legend(loc="lower right")
    figure.suptitle(f"tokens/s relative to stock allennlp, {torch.get_num_threads()} CPU threads")
    figure.tight_layout()
    plotting.save_png(figure, path, dpi=90)
