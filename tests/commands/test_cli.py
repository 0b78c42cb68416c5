"""
The command line as a whole: every verb answers `--help` (in process), help and usage errors need
neither torch nor allennlp, every writing verb takes the same output flags, and the console script's
exit status.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from elmo_compress.commands import VERBS, build_parser

from tests.helpers import run_cli

VERB_NAMES = [name.replace("_", "-") for name in VERBS]


@pytest.mark.parametrize("verb", VERB_NAMES)
def test_every_verb_has_help(verb: str, capsys):
    assert run_cli([verb, "--help"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"usage: compress-elmo {verb}") and "--verbose" in printed


def test_top_level_help_lists_every_verb(capsys):
    assert run_cli(["--help"]) == 0
    printed = capsys.readouterr().out
    assert all(verb in printed for verb in VERB_NAMES)


def test_writing_verbs_share_the_output_flags():
    parser = build_parser()
    verbs = next(action for action in parser._actions if hasattr(action, "choices") and action.choices).choices
    for name, verb_parser in verbs.items():
        flags = {flag for action in verb_parser._actions for flag in action.option_strings}
        if name != "perplexity":  # the one verb that writes nothing
            # a folder (--output-dir) or, for embed and merge, one file (--output)
            assert {"-o", "-f", "--force"} <= flags and len(flags & {"--output-dir", "--output"}) == 1, name


def test_console_script_usage_error_is_one_line_with_status_2():
    script = Path(sys.executable).parent / "compress-elmo"
    completed = subprocess.run([str(script), "sweep", "a", "b", "-o", "c", "--ranks", "0"], capture_output=True, text=True)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "--ranks: must be an integer >= 1" in completed.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["compress", "--help"],
        ["sweep", "a", "b", "-o", "c", "--ranks", "0"],
        ["embed", "a", "b", "c", "-o", "d", "--shard", "3/2"],
    ],
)
def test_help_and_usage_errors_import_neither_torch_nor_allennlp(arguments):
    # The console script, run as it runs (sys.argv[0] is its path), with the imports it made listed at exit.
    script = Path(sys.executable).parent / "compress-elmo"
    code = f"import runpy, sys; sys.argv = ['{script}'] + {arguments!r}\ntry:\n    runpy.run_path('{script}', run_name='__main__')\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules, 'allennlp' in sys.modules, file=sys.stderr)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.stderr.strip().splitlines()[-1] == "False False", completed.stderr


def test_pretrain_help_shows_the_library_defaults():
    from dataclasses import fields

    from elmo_compress.commands.pretrain import DEFAULTS
    from elmo_compress.lm import PretrainConfig

    library = {field.name: field.default for field in fields(PretrainConfig) if field.name in DEFAULTS}
    assert library == DEFAULTS
