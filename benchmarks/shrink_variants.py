"""
Held-out perplexity of the demo biLM (full embedded held-out split, states reset per batch) under the
compressions that `compress-elmo shrink` chooses between: uniform plain SVD, uniform activation-aware
SVD, and budgeted allocations (predictor: whitened output error, weighed absolutely or relative to each
matrix's output energy) with plain SVD or activation-aware SVD, optionally with bias correction.

    PYTHONPATH=. python benchmarks/shrink_variants.py [--budgets 0.133 0.27 0.53]
        [--calibration-sentences 2000] [--variants NAME ...] [--threads 1]

Calibration: `--calibration-sentences` sentences spread evenly over the embedded training split
(cached, `elmo_compress.calibration`). Prints one row per (budget, variant): LSTM W_i + W_h parameters,
the allocation's predicted output error, the mean perplexity and its ratio to the uncompressed one.
"""

import argparse
import os
import sys
import tempfile
from typing import Callable, Dict, List, Tuple

from elmo_compress.calibration.collect import calibration_sentences, load_or_compute_statistics
from elmo_compress.constants import DEMO_BILM_DIR, MATRIX_TARGETS
from elmo_compress.data import default_split
from elmo_compress.factorize import CompressionSpec
from elmo_compress.reporting.tables import format_table
from elmo_compress.runtime import set_threads
from elmo_compress.shrink.allocation import allocate, ranks_block
from elmo_compress.shrink.bias import correct_biases
from elmo_compress.shrink.pipeline import held_out_perplexity
from elmo_compress.weights import ElmoWeights, compress_weights

# Uniform ranks per budget: rank r on all 8 matrices of 1024 x 64 stores r * 1088 * 8 of 524,288.
UNIFORM_RANKS = {0.133: 8, 0.27: 16, 0.53: 32}


def variants(weights: ElmoWeights, statistics, budget: float) -> Dict[str, Callable[[], Tuple[CompressionSpec, float, bool, bool]]]:
    """name -> (spec, predicted error or nan, bias correction, centered statistics)."""
    uniform = UNIFORM_RANKS.get(budget)
    keys = [(layer, direction, target) for layer, direction in weights.cells() for target in MATRIX_TARGETS]
    table: Dict[str, Callable[[], Tuple[CompressionSpec, float, bool]]] = {}
    if uniform is not None:
        for method in ("svd", "asvd"):
            table[f"{method} rank {uniform} both"] = lambda method=method: (ranks_block({key: uniform for key in keys}, method, None), float("nan"), False, False)
            table[f"{method} rank {uniform} both + bias"] = lambda method=method: (ranks_block({key: uniform for key in keys}, method, None), float("nan"), True, False)
        table[f"asvd centered rank {uniform} both + bias"] = lambda: (ranks_block({key: uniform for key in keys}, "asvd", None), float("nan"), True, True)
    for method in ("svd", "asvd"):
        for weighting in ("absolute", "relative"):
            for bias, centered in ((False, False), (True, False), (True, True)):
                def make(method=method, weighting=weighting, bias=bias, centered=centered):
                    moments = statistics.covariances() if centered else statistics.second_moments
                    allocation = allocate(weights, moments, budget, method, weighting)
                    return allocation.spec, allocation.predicted_error, bias, centered
                name = f"allocated {method}, {weighting}" + (" centered" if centered else "") + (" + bias" if bias else "")
                table[name] = make
    return table


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.133, 0.27, 0.53])
    parser.add_argument("--calibration-sentences", type=int, default=2000)
    parser.add_argument("--variants", nargs="*", help="names (substrings) of the variants to run (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    weights = ElmoWeights.load(os.path.join(DEMO_BILM_DIR, "options.json"), os.path.join(DEMO_BILM_DIR, "weights.hdf5"))
    statistics = load_or_compute_statistics(weights, calibration_sentences(default_split()[0], args.calibration_sentences))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        baseline = held_out_perplexity(DEMO_BILM_DIR, weights, scratch)
        rows.append(["-", "uncompressed", "524,288", "", f"{baseline:.2f}", "1.000"])
        print(f"uncompressed: {baseline:.2f}", file=sys.stderr)
        for budget in args.budgets:
            for name, make in variants(weights, statistics, budget).items():
                if args.variants and not any(part in name for part in args.variants):
                    continue
                spec, predicted, bias, centered = make()
                moments = statistics.covariances() if centered else statistics.second_moments
                compressed, _ = compress_weights(weights, spec, statistics=moments)
                if bias:
                    compressed = correct_biases(weights, compressed, statistics.means)
                perplexity = held_out_perplexity(DEMO_BILM_DIR, compressed, scratch)
                parameters = sum(compressed.matrix(*key).num_parameters() for key in compressed.matrices)
                rows.append([f"{budget:g}", name, f"{parameters:,}", f"{predicted:.1f}", f"{perplexity:.2f}", f"{perplexity / baseline:.3f}"])
                print(f"{budget:g} {name}: {perplexity:.2f} ({spec.describe()})", file=sys.stderr)
    print(format_table(["budget", "variant", "LSTM W_i+W_h params", "predicted error", "perplexity", "x uncompressed"], rows))


if __name__ == "__main__":
    main(sys.argv[1:])
