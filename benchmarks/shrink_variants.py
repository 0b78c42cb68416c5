"""
Held-out perplexity of the demo biLM (full embedded held-out split, states reset per batch) under the
compressions that `compress-elmo shrink` chooses between: uniform plain SVD, uniform activation-aware
SVD, and budgeted allocations (predictor: each matrix's expected output error on calibration text, weighed
as measured, absolutely or relative to its output energy: `elmo_compress.shrink.allocation`) with plain
SVD or activation-aware SVD, each also with bias correction (`elmo_compress.shrink.bias`).

    PYTHONPATH=. python benchmarks/shrink_variants.py [--budgets 0.133 0.27 0.53]
        [--calibration-sentences 2000] [--variants NAME ...] [--threads 1]

Calibration: `--calibration-sentences` sentences spread evenly over the embedded training split
(cached, `elmo_compress.calibration`). Prints one row per (budget, variant): LSTM W_i + W_h parameters,
the allocation's predicted output error, the mean perplexity and its ratio to the uncompressed one.
"""

import argparse
import os
import sys
from typing import Callable, Dict, List, Tuple

from elmo_compress.calibration.collect import calibration_sentences, load_or_compute_statistics
from elmo_compress.constants import DEMO_BILM_DIR, MATRIX_TARGETS
from elmo_compress.data import default_split
from elmo_compress.factorize import CompressionSpec
from elmo_compress.reporting.tables import format_table
from elmo_compress.runtime import set_threads
from elmo_compress.shrink.allocation import WEIGHTINGS, allocate, ranks_block
from elmo_compress.shrink.bias import correct_biases
from elmo_compress.shrink.pipeline import held_out_perplexity
from elmo_compress.weights import ElmoWeights, compress_weights

# Uniform ranks per budget: rank r on all 8 matrices of 1024 x 64 stores r * 1088 * 8 of 524,288.
UNIFORM_RANKS = {0.133: 8, 0.27: 16, 0.53: 32}


def variants(
    weights: ElmoWeights, statistics, budget: float, text
) -> Dict[str, Callable[[], Tuple[CompressionSpec, float, bool]]]:
    """name -> a function giving (spec, predicted error or nan, bias correction)."""
    uniform = UNIFORM_RANKS.get(budget)
    keys = [(layer, direction, target) for layer, direction in weights.cells() for target in MATRIX_TARGETS]
    table: Dict[str, Callable[[], Tuple[CompressionSpec, float, bool]]] = {}
    if uniform is not None:
        for method in ("svd", "asvd"):
            for bias in (False, True):
                name = f"{method} rank {uniform} both" + (" + bias" if bias else "")
                table[name] = lambda method=method, bias=bias: (
                    ranks_block({key: uniform for key in keys}, method, None),
                    float("nan"),
                    bias,
                )
    for method in ("svd", "asvd"):
        for weighting in WEIGHTINGS:
            for bias in (False, True):

                def make(method=method, weighting=weighting, bias=bias):
                    allocation = allocate(
                        weights, statistics.second_moments, budget, method, weighting, sentences=text
                    )
                    return allocation.spec, allocation.predicted_error, bias

                table[f"allocated {method}, {weighting}" + (" + bias" if bias else "")] = make
    return table


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.133, 0.27, 0.53])
    parser.add_argument("--calibration-sentences", type=int, default=2000)
    parser.add_argument(
        "--variants",
        nargs="*",
        help="names of the variants to run, e.g. 'svd rank 8 both' 'allocated asvd, measured' (default: all)",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    weights = ElmoWeights.load(
        os.path.join(DEMO_BILM_DIR, "options.json"), os.path.join(DEMO_BILM_DIR, "weights.hdf5")
    )
    text = default_split()[0]
    statistics = load_or_compute_statistics(weights, calibration_sentences(text, args.calibration_sentences))
    rows = []
    baseline = held_out_perplexity(DEMO_BILM_DIR, weights)
    rows.append(["-", "uncompressed", "524,288", "", f"{baseline:.2f}", "1.000"])
    print(f"uncompressed: {baseline:.2f}", file=sys.stderr)
    for budget in args.budgets:
        for name, make in variants(weights, statistics, budget, text).items():
            if args.variants and name not in args.variants:
                continue
            spec, predicted, bias = make()
            compressed, _ = compress_weights(weights, spec, statistics=statistics.second_moments)
            if bias:
                compressed = correct_biases(weights, compressed, statistics.means)
            perplexity = held_out_perplexity(DEMO_BILM_DIR, compressed)
            parameters = sum(compressed.matrix(*key).num_parameters() for key in compressed.matrices)
            rows.append(
                [
                    f"{budget:g}",
                    name,
                    f"{parameters:,}",
                    f"{predicted:.1f}",
                    f"{perplexity:.2f}",
                    f"{perplexity / baseline:.3f}",
                ]
            )
            print(f"{budget:g} {name}: {perplexity:.2f} ({spec.describe()})", file=sys.stderr)
    print(
        format_table(
            ["budget", "variant", "LSTM W_i+W_h params", "predicted error", "perplexity", "x uncompressed"], rows
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
