"""`compress-elmo perplexity`: held-out perplexity of a biLM bundle, optionally with compressed weights."""

import argparse

from elmo_compress.commands.arguments import add_threads


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "perplexity",
        description="Forward, backward and mean perplexity of a biLM bundle (optionally with a compressed "
        "weights file made from it) on held-out text; LSTM states reset per batch.",
        help="held-out perplexity of a (compressed) biLM",
    )
    parser.add_argument("bundle", help="biLM bundle folder written by `pretrain`")
    parser.add_argument("--weights", help="compressed weights file to use instead of the bundle's weights")
    parser.add_argument("--held-out", help="text, one sentence per line (default: embedded held-out split)")
    add_threads(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    import json
    from dataclasses import asdict

    from elmo_compress.data import default_split, read_corpus
    from elmo_compress.lm import evaluate_perplexity, load_lm

    held_out = read_corpus(args.held_out) if args.held_out else default_split()[1]
    lm, vocabulary = load_lm(args.bundle, weight_file=args.weights)
    print(json.dumps(asdict(evaluate_perplexity(lm, held_out, vocabulary)), indent=2))
