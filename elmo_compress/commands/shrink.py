"""`compress-elmo shrink`: calibrate -> allocate -> factorize -> reconstruct -> distill under a parameter budget,
one command."""

import argparse
import os

from elmo_compress.commands.arguments import (
    add_calibration_arguments,
    add_output_dir,
    add_task_archive_argument,
    add_threads,
    non_negative_int,
    share,
)
from elmo_compress.constants import DISTILL_TRAIN_CHOICES, RECONSTRUCT_STEPS


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "shrink",
        description="Shrink an ELMo biLM to a share of its LSTM W_i + W_h parameters: measure every matrix's "
        "inputs on calibration text, give each matrix (layer x direction x target) the rank that removes the "
        "most predicted output error per parameter, factorize, train each compressed cell to take the "
        "uncompressed cell's steps on the calibration text (teacher-forced reconstruction), and optionally "
        "distill the whole biLM from the uncompressed one. No softmax and no labels are needed. Prints each "
        "stage's parameters (and, when WEIGHTS sits in a biLM bundle with a softmax, the held-out perplexity); "
        "writes weights.hdf5, options.json, compression.json (the allocation as a "
        "compression block), statistics.npz and shrink_report.json to OUT_DIR.",
        help="calibrate, allocate ranks under a budget, factorize, reconstruct, distill",
    )
    parser.add_argument("options_file", help="ELMo options.json")
    parser.add_argument("weight_file", help="official ELMo weights.hdf5")
    parser.add_argument(
        "--budget",
        type=share,
        required=True,
        help="share of the dense LSTM W_i + W_h parameters to keep, in (0, 1]",
    )
    add_output_dir(parser, "folder for the compressed weights, options, block, statistics and report")
    add_calibration_arguments(parser)
    add_task_archive_argument(parser)
    parser.add_argument(
        "--statistics", metavar="FILE", help="calibration statistics of these weights (instead of calibrating)"
    )
    parser.add_argument("--method", choices=("asvd", "svd"), default="asvd", help="factorization (default: asvd)")
    parser.add_argument(
        "--weighting",
        choices=("measured", "absolute", "relative"),
        default="measured",
        help="allocation: scale each matrix's predicted output error by how much it moved the biLM's layer outputs "
        "when compressed alone (measured), or add the errors as they are (absolute) or relative to each output's "
        "energy (relative) (default: measured)",
    )
    parser.add_argument(
        "--reconstruct-steps",
        type=non_negative_int,
        default=RECONSTRUCT_STEPS,
        help="teacher-forced reconstruction steps per LSTM cell after factorizing, on the calibration sentences "
        f"(0: none; default: {RECONSTRUCT_STEPS})",
    )
    parser.add_argument(
        "--distill-steps",
        type=non_negative_int,
        default=0,
        help="end-to-end distillation steps after reconstruction, on the text (default: 0)",
    )
    parser.add_argument(
        "--distill-train",
        choices=DISTILL_TRAIN_CHOICES,
        default="all",
        help="what reconstruction and distillation train: the compressed matrices (factors) or every LSTM "
        "parameter (all) (default: all)",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed (default: 0)")
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.shrink import ShrinkSettings, shrink_files
    from elmo_compress.shrink.pipeline import SHRINK_OUTPUTS

    settings = ShrinkSettings(
        budget=args.budget,
        method=args.method,
        weighting=args.weighting,
        calibration_sentences=args.calibration_sentences,
        reconstruct_steps=args.reconstruct_steps,
        distill_steps=args.distill_steps,
        distill_train=args.distill_train,
        seed=args.seed,
    )
    shrink_files(
        args.options_file,
        args.weight_file,
        args.output_dir,
        settings,
        args.text,
        args.statistics,
        args.force,
        task_archive=args.task_archive,
    )
    written = ", ".join(os.path.join(args.output_dir, name) for name in SHRINK_OUTPUTS)
    print(f"wrote {written}")
