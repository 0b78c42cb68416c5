"""
`compress-elmo analyze`: what the matrices of an ELMo biLM say about compressing them (spectra, effective
ranks, norms, SVD vs pruning at equal size, a rank recommendation; with --sweep, norms vs metric drop).
"""

import argparse

from elmo_compress.commands.arguments import add_output_dir, add_threads, share
from elmo_compress.constants import DEFAULT_TARGET, TARGET_CHOICES


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
    add_output_dir(parser, "folder for the outputs")
    parser.add_argument("--sweep", metavar="CSV", help="result CSV of `demo` or `sweep` (method, target, rank, metric_drop)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--energy-budget", type=share, help="recommend ranks keeping this share of sum(s^2) (default 0.9)")
    budget.add_argument("--error-budget", type=share, help="recommend ranks with relative SVD error at most this")
    parser.add_argument(
        "--target", choices=TARGET_CHOICES, default=DEFAULT_TARGET, help=f"matrices the recommendation compresses (default: {DEFAULT_TARGET})"
    )
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.analysis.recommend import Budget
    from elmo_compress.analysis.run import DEFAULT_BUDGET, describe, write_analysis

    if args.error_budget is not None:
        budget = Budget("error", args.error_budget)
    elif args.energy_budget is not None:
        budget = Budget("energy", args.energy_budget)
    else:
        budget = DEFAULT_BUDGET
    document = write_analysis(args.options_file, args.weight_file, args.output_dir, args.sweep, budget, args.target, args.force)
    print(describe(document))
    print(f"wrote analysis.json, analysis.md, recommended_compression.json and the figures to {args.output_dir}")
