"""
`allennlp compress-elmo ...`: the `compress-elmo` verbs as a registered allennlp subcommand. allennlp
finds it when `elmo_compress` is listed in `.allennlp_plugins` (in the working folder) or in
`~/.allennlp/plugins`; `--include-package` alone is too late, allennlp resolves subcommand names
before it imports packages.
"""

import argparse
import sys
from typing import Callable

from allennlp.commands.subcommand import Subcommand

from elmo_compress.commands import DESCRIPTION, add_verbs
from elmo_compress.errors import ElmoCompressError


def _one_line_errors(func: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    """Bad input ends the run with one `allennlp compress-elmo: error: ...` line and status 2."""

    def run(args: argparse.Namespace) -> None:
        try:
            func(args)
        except ElmoCompressError as error:
            print(f"allennlp compress-elmo: error: {error}", file=sys.stderr)
            sys.exit(2)

    return run


@Subcommand.register("compress-elmo")
class CompressElmo(Subcommand):
    """
    The `compress-elmo` command line inside `allennlp`: `allennlp compress-elmo VERB ...` runs the
    same verbs as `compress-elmo VERB ...`.

    Registered as a `Subcommand` with name "compress-elmo".
    """

    requires_plugins = False  # it is found through the plugins; its verbs import what they need

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        subparser = parser.add_parser(self.name, description=DESCRIPTION, help="compress ELMo (elmo_compress)")
        add_verbs(subparser)
        verbs = next(action for action in subparser._actions if isinstance(action, argparse._SubParsersAction))
        for verb_parser in verbs.choices.values():
            verb_parser.set_defaults(func=_one_line_errors(verb_parser.get_default("func")))
        return subparser
