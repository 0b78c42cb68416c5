"""
Defaults for the environment variables that `training_configs/` read with `std.extVar`.

allennlp hands every environment variable to jsonnet, and jsonnet fails on an unset one, so on
import this package sets each variable the user has not set (it never overrides one): the ELMo
files default to the shipped demo biLM and the data paths to the demo tasks shipped beside it
(`elmo_compress/demo_tasks/`, see `elmo_compress/data/demo_tasks.py`). That is what makes
`allennlp train training_configs/... --include-package elmo_compress` run on a fresh machine.
For the real experiment set them (README lists them).
"""

import json
import os
from typing import Dict, MutableMapping, Optional

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
DEMO_TASKS = os.path.join(PACKAGE_DIR, "demo_tasks")
DEMO_BILM = os.path.join(PACKAGE_DIR, "demo_bilm")
DEFAULT_COMPRESSION = '{"method": "svd", "target": "recurrent", "fraction": 0.25}'


def _demo_task(task: str, split: str) -> str:
    extension = "jsonl" if task == "snli" else "txt"
    return os.path.join(DEMO_TASKS, task, f"{split}.{extension}")


def config_defaults() -> Dict[str, str]:
    """Every variable the training configs read, with its default."""
    defaults = {
        "ELMO_OPTIONS_FILE": os.path.join(DEMO_BILM, "options.json"),
        "ELMO_WEIGHT_FILE": os.path.join(DEMO_BILM, "weights.hdf5"),
        # The compressed configs' `compression` block (JSON; "null" when ELMO_WEIGHT_FILE is compressed).
        "ELMO_COMPRESSION": DEFAULT_COMPRESSION,
        "GLOVE_50D_PATH": "",  # NER; empty: a trainable, randomly initialized 50-d embedding
        "GLOVE_840B_300D_PATH": "",  # BCN; empty: a trainable, randomly initialized 300-d embedding
        "SNLI_TOKENIZER": "whitespace",  # "spacy" as allennlp-models (needs spaCy's English model)
        "SST_USE_SUBTREES": "true",
    }
    for task, prefix in (("snli", "SNLI"), ("ner", "NER"), ("sentiment", "SST")):
        for split in ("train", "dev", "test"):
            defaults[f"{prefix}_{split.upper()}_DATA_PATH"] = _demo_task(task, split)
    return defaults


def elmo_output_dim(options_file: str) -> Optional[str]:
    """ELMo's representation size, 2 x the LSTM projection, from an options file (None if unreadable)."""
    try:
        with open(options_file) as options:
            return str(2 * int(json.load(options)["lstm"]["projection_dim"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # the embedder reports a bad options file when it is built


def set_config_defaults(environment: MutableMapping[str, str] = os.environ) -> None:
    """Set every unset config variable to its default; `ELMO_DIM` follows `ELMO_OPTIONS_FILE`."""
    for name, value in config_defaults().items():
        environment.setdefault(name, value)
    dim = elmo_output_dim(environment["ELMO_OPTIONS_FILE"])
    if dim is not None:
        environment.setdefault("ELMO_DIM", dim)
