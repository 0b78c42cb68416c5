"""`compress-elmo distill`: the uncompressed biLM teaches a compressed one on unlabeled text."""

import argparse

from elmo_compress.commands.arguments import (
    add_output_dir,
    add_task_archive_argument,
    add_threads,
    non_negative_int,
    positive_float,
    positive_int,
    proper_share,
)
from elmo_compress.constants import (
    DISTILL_BATCH_SIZE,
    DISTILL_CHECKPOINT_EVERY,
    DISTILL_LEARNING_RATE,
    DISTILL_STEPS,
    DISTILL_TRAIN_CHOICES,
    DISTILL_WARMUP,
)


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "distill",
        description="Train a compressed biLM to give the same ELMo layers as the uncompressed biLM it was made "
        "from, on unlabeled text (no softmax, no vocabulary: official options + weights are enough), and write "
        "it as a compressed weights file (OUT_DIR/weights.hdf5 + options.json). Loss: per LSTM layer, the "
        "squared error relative to the teacher layer's mean square, at real positions, stateless batches. "
        "Checkpoints to OUT_DIR/distill_checkpoint.pt; the same command continues from it exactly.",
        help="distill the uncompressed biLM into a compressed one on unlabeled text",
    )
    parser.add_argument("options", help="ELMo options.json")
    parser.add_argument("weights", help="the uncompressed (official) ELMo weights.hdf5: the teacher")
    parser.add_argument("compressed", help="compressed weights file made from WEIGHTS by `compress`: the student")
    add_output_dir(parser, "folder for weights.hdf5 and options.json (and the checkpoint)")
    parser.add_argument(
        "--text", help="unlabeled text, one sentence per line, tokens split on whitespace (default: embedded corpus, training split)"
    )
    add_task_archive_argument(parser)
    parser.add_argument("--steps", type=positive_int, default=DISTILL_STEPS, help=f"optimizer steps (default: {DISTILL_STEPS})")
    parser.add_argument("--batch-size", type=positive_int, default=DISTILL_BATCH_SIZE, help=f"sentences per step (default: {DISTILL_BATCH_SIZE})")
    parser.add_argument(
        "--learning-rate", type=positive_float, default=DISTILL_LEARNING_RATE, help=f"Adam, cosine decay to 0 (default: {DISTILL_LEARNING_RATE:g})"
    )
    parser.add_argument(
        "--warmup",
        type=proper_share,
        default=DISTILL_WARMUP,
        help=f"share of the steps over which the learning rate rises linearly from 0 (default: {DISTILL_WARMUP:g})",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="batch order (default: 0)")
    parser.add_argument(
        "--train",
        choices=DISTILL_TRAIN_CHOICES,
        default="factors",
        help="factors: the compressed matrices only; all: every LSTM parameter (default: factors)",
    )
    parser.add_argument(
        "--checkpoint-every", type=positive_int, default=DISTILL_CHECKPOINT_EVERY, help=f"steps (default: {DISTILL_CHECKPOINT_EVERY})"
    )
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.distill import DistillSettings, distill_files

    settings = DistillSettings(
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup=args.warmup,
        seed=args.seed,
        train=args.train,
        checkpoint_every=args.checkpoint_every,
    )
    report = distill_files(
        args.options,
        args.weights,
        args.compressed,
        args.output_dir,
        settings,
        args.text,
        args.force,
        task_archive=args.task_archive,
    )
    print("\n".join(report.lines()))
