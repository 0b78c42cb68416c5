"""
elmo_compress: low-rank (SVD, Semi-NMF) and pruning compression of ELMo's biLSTM for AllenNLP.

Importing the package sets a default for every unset environment variable the training configs read
(`elmo_compress/config_variables.py`) and registers the AllenNLP components (`registration.py`).
"""

import warnings

# allennlp imports google-cloud-storage, whose api_core warns on every import under Python 3.10.
# It says nothing about this package and would turn each one-line CLI error into three lines.
warnings.filterwarnings("ignore", message="You are using a non-supported Python version", category=FutureWarning)

from elmo_compress.version import VERSION as __version__  # noqa: E402,F401
from elmo_compress.config_variables import apply_and_report  # noqa: E402
from elmo_compress.registration import in_compress_elmo_command, register  # noqa: E402
from elmo_compress.runtime import apply_cpu_remedies  # noqa: E402

# Before anything imports torch (and, under `allennlp train`, before MKL's first call): on AMD CPUs,
# MKL_DEBUG_CPU_TYPE=5 unless the user set it (elmo_compress/runtime.py). The lines say what was done.
CPU_REMEDIES = apply_cpu_remedies()
apply_and_report()
if not in_compress_elmo_command():
    register()
