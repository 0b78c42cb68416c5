"""`compress-elmo demo-tasks`: write the three downstream demo tasks derived from the embedded corpus."""

import argparse

from elmo_compress.commands.arguments import add_output_dir, non_negative_int


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo-tasks",
        description="Write the downstream demo tasks derived from the embedded corpus, in the official "
        "formats: OUT_DIR/sentiment (SST trees: which of five stdlib packages a sentence documents), "
        "OUT_DIR/ner (CoNLL-2003: code names vs. words), OUT_DIR/snli (SNLI JSON lines: next sentence / "
        "same package / other package), each with train, dev and test files. The package ships them in "
        "elmo_compress/demo_tasks/.",
        help="write the downstream demo tasks",
    )
    add_output_dir(parser, "folder for sentiment/, ner/ and snli/")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the sentence-pair sampling (default: 0)")
    return parser


def run(args: argparse.Namespace) -> None:
    from elmo_compress.data.demo_tasks import write_demo_tasks

    for paths in write_demo_tasks(args.output_dir, args.seed, args.force).values():
        for path in paths.values():
            with open(path, encoding="utf-8") as lines:
                print(f"{path}: {sum(1 for _ in lines):,} lines")
