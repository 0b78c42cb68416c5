"""
`compress-elmo sweep`: evaluate a trained archive uncompressed and compressed every way on one file,
as `allennlp evaluate` does, and write the paper's table (CSV, Markdown) and figures.
"""

import argparse

from elmo_compress.commands.arguments import add_output_dir, add_threads, positive_int
from elmo_compress.constants import TARGET_CHOICES
from elmo_compress.methods import METHOD_NAMES, PAPER_METHODS


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "sweep",
        description="Evaluate a trained archive uncompressed and with every method x target x rank on "
        "EVALUATION_FILE, each row as allennlp evaluate would evaluate that archive (its data loader and "
        "seeds); write sweep.csv (resumable; sweep.json records what it was computed on), sweep.md and "
        "metric_vs_rank.png / metric_vs_parameters.png to OUT_DIR.",
        help="metric of a trained archive under every compression",
    )
    parser.add_argument("archive_file", help="trained allennlp archive (model.tar.gz), trained with plain ELMo")
    parser.add_argument("evaluation_file", help="data in the format of the archive's validation reader")
    add_output_dir(parser, "folder for the CSV, Markdown and figures (--force: start over)")
    parser.add_argument("--methods", nargs="+", choices=METHOD_NAMES, default=list(PAPER_METHODS), help="(default: svd semi_nmf prune)")
    parser.add_argument("--targets", nargs="+", choices=TARGET_CHOICES, default=list(TARGET_CHOICES), help="(default: all)")
    parser.add_argument("--ranks", nargs="+", type=positive_int, required=True, help="ranks to try, e.g. 16 32 64")
    parser.add_argument("--metric", help="+NAME or -NAME (default: the archive's trainer validation_metric)")
    parser.add_argument("--batch-size", type=positive_int, help="override the archive's evaluation batch size")
    parser.add_argument(
        "--allennlp-loop", action="store_true", help="run allennlp's biLSTM loop in the compressed rows too (default: the fast path)"
    )
    parser.add_argument("--statistics", metavar="FILE", help="calibration statistics of the archive's ELMo (for asvd; statistics.npz of `shrink`)")
    parser.add_argument(
        "--compressed-weights",
        nargs="+",
        default=[],
        metavar="NAME=FILE",
        help="one more row per compressed weights file (compress, shrink, distill), named NAME: the archive with "
        "its ELMo replaced by that file, which must come from the archive's own ELMo weights",
    )
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.downstream.sweep import SweepRequest, run_sweep
    from elmo_compress.downstream.weights_rows import parse_named_file
    from elmo_compress.reporting.results import text_table

    files = [parse_named_file(text) for text in args.compressed_weights]
    request = SweepRequest(
        args.archive_file, args.evaluation_file, args.methods, args.targets, args.ranks, args.metric, args.batch_size,
        args.allennlp_loop, args.statistics, files,
    )
    rows = run_sweep(request, args.output_dir, args.force)
    print(text_table(rows))
    print(f"wrote sweep.csv, sweep.json, sweep.md and the figures to {args.output_dir}")
