"""
`compress-elmo corpus`: write the embedded default corpus (or check and split a corpus of your own) as
train / held-out files with one tokenized sentence per line.
"""

import argparse

from elmo_compress.commands.arguments import add_output_dir, at_least


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "corpus",
        description="Write a language-model corpus as OUT_DIR/train.txt and OUT_DIR/heldout.txt (one "
        "tokenized sentence per line). Without --input: the embedded default corpus, English sentences "
        "from the documentation that ships with Python (pydoc topics and standard-library docstrings).",
        help="write the embedded default corpus, or check and split your own",
    )
    add_output_dir(parser, "folder for train.txt and heldout.txt")
    parser.add_argument("--input", help="your corpus: one whitespace-tokenized sentence per line")
    parser.add_argument("--every", type=at_least(2), default=10, help="hold out one sentence in EVERY (default: 10)")
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.data import read_corpus, stdlib_sentences, write_split

    sentences = read_corpus(args.input) if args.input else stdlib_sentences()
    inputs = [args.input] if args.input else []
    for path, count, tokens in write_split(sentences, args.every, args.output_dir, inputs, args.force):
        print(f"{path}: {count:,} sentences, {tokens:,} tokens")
