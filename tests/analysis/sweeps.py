"""Sweep CSVs for the analysis tests, in the format the downstream sweep and `compress-elmo demo` write."""

import csv
from pathlib import Path
from typing import Dict, List, Sequence

COLUMNS = ["method", "target", "rank", "metric_name", "metric", "metric_drop", "finetune_steps"]
BASELINE = 80.0

# (method, target, rank, accuracy); drop = BASELINE - accuracy.
SETTINGS = [
    ("svd", "input", 8, 70.0),
    ("svd", "recurrent", 8, 78.0),
    ("svd", "input", 16, 76.0),
    ("svd", "recurrent", 16, 79.0),
    ("svd", "both", 16, 74.0),
    ("prune", "input", 8, 75.0),
    ("prune", "recurrent", 8, 72.0),
    ("prune", "input", 16, 79.5),
    ("prune", "recurrent", 16, 79.5),
]


def sweep_rows(settings: Sequence[tuple] = SETTINGS) -> List[Dict[str, object]]:
    rows: List[Dict[str, object]] = [
        {"method": "none", "target": "none", "rank": "", "metric": BASELINE, "metric_drop": 0.0}
    ]
    for method, target, rank, accuracy in settings:
        rows.append(
            {
                "method": method,
                "target": target,
                "rank": rank,
                "metric": accuracy,
                "metric_drop": BASELINE - accuracy,
            }
        )
    for row in rows:
        row.update(metric_name="accuracy", finetune_steps=0)
    return rows


def write_sweep(path: Path, rows: Sequence[Dict[str, object]], columns: Sequence[str] = COLUMNS) -> str:
    with open(path, "w", encoding="utf-8", newline="") as sweep_file:
        writer = csv.DictWriter(sweep_file, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)
