"""
The correlation view of Winata et al. 2019: per compressed target (W_i or W_h), the matrix norms against the metric
drop that compressing it caused, for factorization and for pruning. The drops come from a sweep CSV (one row
per setting; `compress-elmo demo` and the downstream sweep write it) with at least the columns `method`
(svd | semi_nmf | prune | none), `target` (input | recurrent | both | none), `rank`, `metric_name`, `metric`
and `metric_drop` (positive = worse than uncompressed).
"""

import csv
import math
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from elmo_compress.errors import SweepError
from elmo_compress.constants import TARGET_CHOICES, UNCOMPRESSED
from elmo_compress.methods import METHOD_NAMES

REQUIRED_COLUMNS = ("method", "target", "rank", "metric_name", "metric", "metric_drop")
# The norms the paper relates to compression loss, keys of the per-matrix statistics.
CORRELATED_NORMS = ("l1_norm", "nuclear_norm", "row_l1_std")


@dataclass(frozen=True)
class SweepPoint:
    """
    One compressed setting of the sweep: the mean `metric_drop` of its rows (several seeds or repeats).

    # Parameters

    metric_name : `str`
    method : `str`
        `"svd"`, `"semi_nmf"` or `"prune"`.
    target : `str`
        `"input"`, `"recurrent"` or `"both"`.
    rank : `int`
    metric_drop : `float`
    count : `int`
        How many rows were averaged.
    """

    metric_name: str
    method: str
    target: str
    rank: int
    metric_drop: float
    count: int


def _parse_rank(text: str, where: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise SweepError(f"{where}: rank must be an integer, got {text!r}") from None
    if not math.isfinite(value) or not value.is_integer() or value < 1:
        raise SweepError(f"{where}: rank must be an integer >= 1, got {text!r}")
    return int(value)


def _parse_drop(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SweepError(f"{where}: metric_drop must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise SweepError(f"{where}: metric_drop must be finite, got {text!r}")
    return value


def _parse_row(row: Mapping[str, Optional[str]], where: str) -> Optional[Tuple[str, str, str, int, float]]:
    """`(metric_name, method, target, rank, metric_drop)`, or `None` for a row the view leaves out."""
    if None in row or any(row[column] is None for column in REQUIRED_COLUMNS):
        raise SweepError(f"{where}: the row does not have as many fields as the header")
    method, target = row["method"].strip(), row["target"].strip()
    if method == UNCOMPRESSED:
        if target != UNCOMPRESSED:
            raise SweepError(f"{where}: the uncompressed row (method none) has target {target!r}")
        return None
    if method not in METHOD_NAMES:
        raise SweepError(f"{where}: unknown method {method!r}; expected one of {', '.join(METHOD_NAMES + ('none',))}")
    if target not in TARGET_CHOICES:
        raise SweepError(f"{where}: unknown target {target!r}; expected one of {', '.join(TARGET_CHOICES)}")
    if (row.get("training_steps") or "0").strip() not in ("0", "0.0"):
        return None  # a fine-tuned or distilled model: the view is about compression alone
    if not row["rank"].strip() and row.get("budget", "").strip():
        return None  # per-matrix ranks from a budget: no single rank to place it at
    rank, drop = _parse_rank(row["rank"].strip(), where), _parse_drop(row["metric_drop"].strip(), where)
    return row["metric_name"].strip(), method, target, rank, drop


def read_sweep(path: str) -> List[SweepPoint]:
    """
    Read and check a sweep CSV; rows of the same metric, method, target and rank are averaged.

    # Parameters

    path : `str`
        The CSV file.

    # Returns

    points : `List[SweepPoint]`
        Sorted by metric name, method, target, rank. The uncompressed row and fine-tuned rows (a non-zero
        `training_steps` column, when there is one) and budget rows are left out.
    """
    if not os.path.isfile(path):
        raise SweepError(f"sweep CSV not found: {path}")
    try:
        with open(path, encoding="utf-8", newline="") as sweep_file:
            reader = csv.DictReader(sweep_file)
            missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or ())]
            if missing:
                raise SweepError(f"sweep CSV {path} lacks the column(s) {', '.join(missing)}")
            parsed = [_parse_row(row, f"sweep CSV {path} line {reader.line_num}") for row in reader]
    except (UnicodeDecodeError, csv.Error) as error:
        raise SweepError(f"sweep CSV {path} cannot be read ({error})") from None
    return _average([row for row in parsed if row is not None], path)


def _average(rows: Sequence[Tuple[str, str, str, int, float]], path: str) -> List[SweepPoint]:
    drops: Dict[Tuple[str, str, str, int], List[float]] = {}
    for metric_name, method, target, rank, drop in rows:
        drops.setdefault((metric_name, method, target, rank), []).append(drop)
    if not any(target != "both" for _, _, target, _ in drops):
        raise SweepError(f"sweep CSV {path} has no compressed rows with target input or recurrent")
    return [
        SweepPoint(*key, metric_drop=sum(values) / len(values), count=len(values))
        for key, values in sorted(drops.items())
    ]


def _paired(points: Sequence[SweepPoint]) -> Dict[Tuple[str, str, int], Dict[str, float]]:
    """`(metric_name, method, rank)` -> `{target: drop}` for the settings with both input and recurrent rows."""
    pairs: Dict[Tuple[str, str, int], Dict[str, float]] = {}
    for point in points:
        if point.target != "both":
            pairs.setdefault((point.metric_name, point.method, point.rank), {})[point.target] = point.metric_drop
    return {key: drops for key, drops in pairs.items() if len(drops) == 2}


def correlation_view(
    points: Sequence[SweepPoint], target_norms: Mapping[str, Mapping[str, float]]
) -> Dict[str, Any]:
    """
    Norms of W_i and W_h next to the drops that compressing them caused.

    # Parameters

    points : `Sequence[SweepPoint]`
        From `read_sweep`.
    target_norms : `Mapping[str, Mapping[str, float]]`
        `"input"` / `"recurrent"` -> norm name (`CORRELATED_NORMS`) -> the mean over that target's matrices.

    # Returns

    view : `Dict[str, Any]`
        `norms` (the given norms), `points` (every point, "both" rows included as their own target), and
        `agreement`: per metric and method, over the ranks with both an input and a recurrent row, how many
        times the target with the larger norm lost more, per norm (a tie in norm or in drop never counts).
    """
    pairs = _paired(points)
    agreement: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for (metric_name, method, _), drops in sorted(pairs.items()):
        entry = agreement.setdefault(metric_name, {}).setdefault(
            method, {"ranks": 0, **{norm: 0 for norm in CORRELATED_NORMS}}
        )
        entry["ranks"] += 1
        for norm in CORRELATED_NORMS:
            norm_gap = target_norms["recurrent"][norm] - target_norms["input"][norm]
            drop_gap = drops["recurrent"] - drops["input"]
            entry[norm] += int(norm_gap * drop_gap > 0)  # ties in either count for neither side
    return {
        "norms": {target: dict(norms) for target, norms in target_norms.items()},
        "points": [vars(point) for point in points],
        "agreement": agreement,
    }
