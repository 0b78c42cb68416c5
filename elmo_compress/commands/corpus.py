"""
`compress-elmo corpus`: write the embedded default corpus (or check and split a corpus of your own)
as train / held-out files with one tokenized sentence per line.
"""

import argparse
import os

from elmo_compress.data import read_corpus, split_held_out, stdlib_sentences, write_corpus

TRAIN_NAME = "train.txt"
HELD_OUT_NAME = "heldout.txt"


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "corpus",
        description="Write a language-model corpus as OUT_DIR/train.txt and OUT_DIR/heldout.txt (one "
        "tokenized sentence per line). Without --input: the embedded default corpus, English sentences "
        "from the documentation that ships with Python (pydoc topics and standard-library docstrings).",
        help="write the embedded default corpus, or check and split your own",
    )
    parser.add_argument("-o", "--output-dir", required=True, help="folder for train.txt and heldout.txt")
    parser.add_argument("--input", help="your corpus: one whitespace-tokenized sentence per line")
    parser.add_argument("--every", type=int, default=10, help="hold out one sentence in EVERY (default: 10)")
    parser.set_defaults(func=run_corpus)
    return parser


def run_corpus(args: argparse.Namespace) -> None:
    sentences = read_corpus(args.input) if args.input else stdlib_sentences()
    split = split_held_out(sentences, args.every)
    os.makedirs(args.output_dir, exist_ok=True)
    for name, part in ((TRAIN_NAME, split.train), (HELD_OUT_NAME, split.held_out)):
        path = os.path.join(args.output_dir, name)
        write_corpus(part, path)
        print(f"{path}: {len(part):,} sentences, {sum(len(tokens) for tokens in part):,} tokens")
