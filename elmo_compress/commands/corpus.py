"""
`compress-elmo corpus`: write the embedded default corpus (or check and split a corpus of your own)
as train / held-out files with one tokenized sentence per line. `compress-elmo demo-tasks`: write
the three downstream demo tasks derived from the same corpus (shipped in elmo_compress/demo_tasks/).
"""

import argparse
import os

from elmo_compress.config_defaults import DEMO_TASKS
from elmo_compress.data import read_corpus, split_held_out, stdlib_sentences, write_corpus
from elmo_compress.data.demo_tasks import write_demo_tasks

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
    tasks = subparsers.add_parser(
        "demo-tasks",
        description="Write the downstream demo tasks derived from the embedded corpus, in the official "
        "formats: OUT_DIR/sentiment (SST trees: which of five stdlib packages a sentence documents), "
        "OUT_DIR/ner (CoNLL-2003: code names vs. words), OUT_DIR/snli (SNLI JSON lines: next sentence / "
        "same package / other package), each with train, dev and test files.",
        help="write the downstream demo tasks",
    )
    tasks.add_argument("-o", "--output-dir", default=DEMO_TASKS, help=f"where (default: {DEMO_TASKS})")
    tasks.add_argument("--seed", type=int, default=0, help="seed of the sentence-pair sampling (default: 0)")
    tasks.set_defaults(func=run_demo_tasks)
    return parser


def run_demo_tasks(args: argparse.Namespace) -> None:
    for task, paths in write_demo_tasks(args.output_dir, args.seed).items():
        for path in paths.values():
            with open(path, encoding="utf-8") as lines:
                print(f"{path}: {sum(1 for _ in lines):,} lines")


def run_corpus(args: argparse.Namespace) -> None:
    sentences = read_corpus(args.input) if args.input else stdlib_sentences()
    split = split_held_out(sentences, args.every)
    os.makedirs(args.output_dir, exist_ok=True)
    for name, part in ((TRAIN_NAME, split.train), (HELD_OUT_NAME, split.held_out)):
        path = os.path.join(args.output_dir, name)
        write_corpus(part, path)
        print(f"{path}: {len(part):,} sentences, {sum(len(tokens) for tokens in part):,} tokens")
