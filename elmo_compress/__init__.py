"""
elmo_compress: low-rank (SVD, Semi-NMF) and pruning compression of ELMo's biLSTM for AllenNLP.

Importing the package registers its AllenNLP components (`.allennlp_plugins` imports only this module)
and sets a default for every unset environment variable the training configs read
(`elmo_compress/config_defaults.py`).
"""

import warnings

# allennlp imports google-cloud-storage, whose api_core warns on every import under Python 3.10.
# It says nothing about this package and would turn each one-line CLI error into three lines.
warnings.filterwarnings("ignore", message="You are using a non-supported Python version", category=FutureWarning)

from elmo_compress.version import VERSION as __version__  # noqa: E402,F401
from elmo_compress.config_defaults import set_config_defaults  # noqa: E402

set_config_defaults()

import elmo_compress.embedders  # noqa: E402,F401
import elmo_compress.models  # noqa: E402,F401
import elmo_compress.commands.allennlp_subcommand  # noqa: E402,F401
