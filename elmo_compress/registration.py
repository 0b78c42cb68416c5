"""
Registering the AllenNLP components (`compressed_elmo`, `bcn_compressed_elmo`, the `compress-elmo`
subcommand). `import elmo_compress` does it, as allennlp plugins do, except in the `compress-elmo`
command line, which registers only when a verb needs allennlp: that keeps `compress-elmo --help` and
argument errors free of the seconds that importing torch and allennlp takes.
"""

import os
import sys


def register() -> None:
    """Import the modules whose classes register themselves with allennlp (idempotent)."""
    import elmo_compress.commands.allennlp_subcommand  # noqa: F401
    import elmo_compress.embedders  # noqa: F401
    import elmo_compress.models  # noqa: F401


def in_compress_elmo_command() -> bool:
    """Whether this process is the `compress-elmo` console script."""
    return bool(sys.argv) and os.path.basename(sys.argv[0]) == "compress-elmo"
