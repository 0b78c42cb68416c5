"""`compress-elmo finetune`: fine-tune a compressed biLM on its bundle's language-model loss."""

import argparse

from elmo_compress.commands.arguments import add_output_dir, add_threads, non_negative_int, positive_float, positive_int


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "finetune",
        description="Fine-tune a compressed biLM on the language-model loss of its bundle (needs the "
        "bundle's softmax; official ELMo has none: use `distill`) and write the result as a compressed "
        "weights file (OUT_DIR/weights.hdf5 + options.json).",
        help="fine-tune a compressed biLM with its bundle's softmax",
    )
    parser.add_argument("bundle", help="biLM bundle folder written by `pretrain` (vocabulary and softmax)")
    parser.add_argument("--weights", required=True, help="compressed weights file made from the bundle's weights")
    add_output_dir(parser, "folder for weights.hdf5 and options.json")
    parser.add_argument("--steps", type=positive_int, default=200, help="optimizer steps (default: 200)")
    parser.add_argument("--everything", action="store_true", help="train every biLM parameter, not only factors")
    parser.add_argument("--learning-rate", type=positive_float, default=1e-3, help="(default: 0.001)")
    parser.add_argument("--corpus", help="training text (default: embedded corpus)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="(default: 0)")
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    import os

    from elmo_compress.data import default_split, read_corpus
    from elmo_compress.lm.training import finetune_files

    train = read_corpus(args.corpus) if args.corpus else default_split()[0]
    finetune_files(
        args.bundle, args.weights, train, args.output_dir, args.steps, not args.everything, args.learning_rate, args.seed, args.force
    )
    print(f"wrote {os.path.join(args.output_dir, 'weights.hdf5')}")
