"""
The `compress-elmo` command line. One verb per module; each has `add_subparser(subparsers)`, which
only declares arguments, and `run(args)`, which imports the library it calls and calls it. Nothing
here imports torch or allennlp at module level, so `--help` and argument errors answer at once.
"""

import argparse
import importlib
import logging
import sys
import warnings
from typing import List, NoReturn, Optional

from elmo_compress.errors import ElmoCompressError
from elmo_compress.runtime import set_threads

# The verb modules, in the order `--help` lists them; imported when a parser is built.
VERBS = (
    "compress",
    "shrink",
    "analyze",
    "corpus",
    "demo_tasks",
    "pretrain",
    "perplexity",
    "finetune",
    "distill",
    "archive",
    "sweep",
    "demo",
    "benchmark",
    "embed",
    "merge",
)
DESCRIPTION = "Compress ELMo's biLSTM by low-rank factorization (SVD, Semi-NMF) or pruning."


class OneLineArgumentParser(argparse.ArgumentParser):
    """Usage errors are one line (`prog: error: ...`) and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_verbs(parser: argparse.ArgumentParser) -> None:
    """Every verb as a subcommand of `parser` (the `compress-elmo` program, or `allennlp compress-elmo`)."""
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=OneLineArgumentParser)
    subparsers.required = True
    for name in VERBS:
        verb = importlib.import_module(f"elmo_compress.commands.{name}")
        verb_parser = verb.add_subparser(subparsers)
        verb_parser.add_argument(
            "-v", "--verbose", action="store_true", help="show the libraries' log messages (allennlp, torch)"
        )
        verb_parser.set_defaults(run=verb.run)


def build_parser(prog: str = "compress-elmo") -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(prog=prog, description=DESCRIPTION)
    add_verbs(parser)
    return parser


def configure_logging(verbose: bool) -> None:
    """The verbs print their own progress and tables; library log messages and warnings only with `--verbose`."""
    if not verbose:
        # allennlp's trainer asks torch for CUDA autocast on every run; on CPU torch warns about it.
        warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'", category=UserWarning)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("allennlp", "allennlp_models", "elmo_compress", "filelock", "urllib3"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


def run_verb(args: argparse.Namespace, prog: str) -> int:
    """Run a parsed verb; bad input and OS errors are one `prog: error: ...` line and status 2."""
    configure_logging(args.verbose)
    try:
        if hasattr(args, "threads"):
            set_threads(args.threads)
        args.run(args)
    except ElmoCompressError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"{prog}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_verb(args, parser.prog)
