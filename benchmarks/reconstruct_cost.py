"""
What `shrink`'s reconstruction stage costs at a biLM's sizes: seconds per step of one cell, and the
stage's training time at the default steps for every cell.

A random biLM of the given sizes (`elmo_compress.weights.synthetic`: the released ELMo's cell 4096 and
projection 512 by default; 2 layers, so 4 cells) is compressed by SVD at rank `--rank` on W_i and W_h;
one cell is then trained on `--rows` random teacher rows (the time of a step does not depend on the
values), `--repeats` times `--steps` steps after a warm-up of 2 steps. Prints the median seconds per step
and that times the default steps per cell times the cells: the stage's training time, without the
recording of the teacher's rows (one no-gradient pass of the biLM per cell over the calibration text).

    PYTHONPATH=. python benchmarks/reconstruct_cost.py [--cell 4096] [--projection 512] [--rank 64]
        [--steps 10] [--repeats 3] [--threads 1]

Not a test: the timings depend on the machine and its load.
"""

import argparse
import statistics
import sys
import time
from typing import List

import torch

from elmo_compress.commands.arguments import positive_int
from elmo_compress.constants import RECONSTRUCT_ROWS_PER_STEP, RECONSTRUCT_STEPS
from elmo_compress.distill.reconstruct import CellRows, ReconstructSettings, reconstruct_cell
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, lstm_cells
from elmo_compress.runtime import DEFAULT_THREADS, set_threads
from elmo_compress.weights import compress_weights
from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights


def random_rows(count: int, projection: int, cell: int) -> CellRows:
    """`count` rows of a cell with these sizes (seeded normal values)."""
    generator = torch.Generator().manual_seed(0)
    sizes = (projection, projection, cell, projection, cell)
    return CellRows(*(torch.randn(count, size, generator=generator) for size in sizes))


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cell", type=positive_int, default=4096)
    parser.add_argument("--projection", type=positive_int, default=512)
    parser.add_argument("--rank", type=positive_int, default=64)
    parser.add_argument("--rows", type=positive_int, default=RECONSTRUCT_ROWS_PER_STEP)
    parser.add_argument("--steps", type=positive_int, default=10, help="steps per timed repeat")
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, help="(default: shrink's)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    # The character CNN is not trained by reconstruction: the smallest one will do.
    options = elmo_options(args.projection, args.cell, filters=((1, 4), (2, 8)), char_embedding_dim=4)
    weights = random_elmo_weights(options)
    spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": args.rank})
    student = CompressedElmoBiLm(weights=compress_weights(weights, spec)[0]).eval()
    cells = list(lstm_cells(student._elmo_lstm))
    cell = cells[0][2]
    rows = random_rows(args.rows, args.projection, args.cell)
    settings = ReconstructSettings(steps=args.steps, rows_per_step=args.rows)
    reconstruct_cell(cell, rows, ReconstructSettings(steps=2, rows_per_step=args.rows), seed=0)
    per_step = []
    for repeat in range(args.repeats):
        started = time.perf_counter()
        reconstruct_cell(cell, rows, settings, seed=repeat)
        per_step.append((time.perf_counter() - started) / args.steps)
    median = statistics.median(per_step)
    stage = median * RECONSTRUCT_STEPS * len(cells)
    print(
        f"cell {args.cell}, projection {args.projection}, rank {args.rank}, {args.rows} rows per step, "
        f"{args.threads} threads: {median:.3f} s per step (median of {args.repeats} x {args.steps} steps); "
        f"{RECONSTRUCT_STEPS} steps x {len(cells)} cells: {stage / 60:.1f} min of training"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
