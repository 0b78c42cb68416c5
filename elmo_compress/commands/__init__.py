"""
The `compress-elmo` command line. Each verb lives in its own module with an `add_subparser`
function and a plain function that does the work (and that tests call directly).
"""

import argparse
import sys
from typing import List, NoReturn, Optional

from elmo_compress.commands import analyze, benchmark, compress, corpus, demo, downstream, language_model
from elmo_compress.errors import ElmoCompressError

VERBS = (compress, corpus, language_model, downstream, demo, analyze, benchmark)


class OneLineArgumentParser(argparse.ArgumentParser):
    """Usage errors are one line (`prog: error: ...`) and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


DESCRIPTION = "Compress ELMo's biLSTM by low-rank factorization (SVD, Semi-NMF) or pruning."


def add_verbs(parser: argparse.ArgumentParser) -> None:
    """Every verb as a subcommand of `parser` (the `compress-elmo` program, or `allennlp compress-elmo`)."""
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=OneLineArgumentParser)
    subparsers.required = True
    for verb in VERBS:
        verb.add_subparser(subparsers)


def build_parser(prog: str = "compress-elmo") -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(prog=prog, description=DESCRIPTION)
    add_verbs(parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except ElmoCompressError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    return 0
