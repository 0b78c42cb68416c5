"""
Results over several training seeds: one task model trained per seed, each swept the same way, and the
rows of a setting combined into one row holding the mean and the sample standard deviation.
"""

import statistics
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Tuple

from elmo_compress.errors import ElmoCompressError
from elmo_compress.reporting.results import ResultRow


class SeedsError(ElmoCompressError):
    """Per-seed results that cannot be combined."""


def _mean(values: Sequence[Optional[float]]) -> Optional[float]:
    return None if any(value is None for value in values) else statistics.fmean(values)


def _combine(rows: Sequence[ResultRow]) -> ResultRow:
    first = rows[0]
    sizes = {(row.bilm_parameters, row.lstm_matrix_parameters, row.metric_name) for row in rows}
    if len(sizes) > 1:
        raise SeedsError(f"setting {first.setting}: the seeds' rows differ in parameters or metric ({sorted(sizes)})")
    metrics = [row.metric for row in rows]
    return replace(
        first,
        metric=statistics.fmean(metrics),
        metric_drop=statistics.fmean(row.metric_drop for row in rows),  # = the drop of the means
        mean_relative_error=_mean([row.mean_relative_error for row in rows]),
        metric_forward=_mean([row.metric_forward for row in rows]),
        metric_backward=_mean([row.metric_backward for row in rows]),
        seeds=len(rows),
        metric_spread=statistics.stdev(metrics) if len(rows) > 1 else None,
    )


def aggregate_seeds(per_seed: Sequence[Sequence[ResultRow]]) -> List[ResultRow]:
    """
    One row per setting, in the order of the first seed's rows: `metric` (and the drop, the relative
    error, the per-direction metrics) the mean over the seeds, `metric_spread` the sample standard
    deviation of `metric` (n - 1 in the denominator), `seeds` their number. One seed gives its rows with
    `seeds` 1 and no spread. Every seed must have every setting once, each from one model.
    """
    if not per_seed:
        raise SeedsError("no seeds to combine")
    by_seed: List[Dict[Tuple, ResultRow]] = []
    for index, rows in enumerate(per_seed):
        settings: Dict[Tuple, ResultRow] = {}
        for row in rows:
            if row.seeds != 1:
                raise SeedsError(f"seed {index}: row {row.setting} is already a mean over {row.seeds} seeds")
            if row.setting in settings:
                raise SeedsError(f"seed {index}: setting {row.setting} appears twice")
            settings[row.setting] = row
        by_seed.append(settings)
    order = list(by_seed[0])
    for index, settings in enumerate(by_seed[1:], start=1):
        if set(settings) != set(order):
            missing = sorted(set(order) ^ set(settings))
            raise SeedsError(f"seed {index} has other settings than seed 0 (differing: {missing[0]}, ...)")
    return [_combine([settings[setting] for settings in by_seed]) for setting in order]
