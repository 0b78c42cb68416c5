"""
`allennlp compress-elmo ...`: the `compress-elmo` verbs as a registered allennlp subcommand. allennlp
finds it when `elmo_compress` is listed in `.allennlp_plugins` (in the working folder) or in
`~/.allennlp/plugins`; `--include-package` alone is too late, allennlp resolves subcommand names
before it imports packages.
"""

import argparse
import sys

from allennlp.commands.subcommand import Subcommand

from elmo_compress.commands import DESCRIPTION, add_verbs, run_verb

PROG = "allennlp compress-elmo"


def _run(args: argparse.Namespace) -> None:
    status = run_verb(args, PROG)
    if status:
        sys.exit(status)


@Subcommand.register("compress-elmo")
class CompressElmo(Subcommand):
    """
    The `compress-elmo` command line inside `allennlp`: `allennlp compress-elmo VERB ...` runs the
    same verbs as `compress-elmo VERB ...`, with the same one-line errors and exit status 2.

    Registered as a `Subcommand` with name "compress-elmo".
    """

    requires_plugins = False  # it is found through the plugins; its verbs import what they need

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        subparser = parser.add_parser(self.name, description=DESCRIPTION, help="compress ELMo (elmo_compress)")
        add_verbs(subparser)
        subparser.set_defaults(func=_run)
        return subparser
