"""
Names and defaults the whole package agrees on, in one place. Pure Python (no torch, no allennlp), so
the command line can build its argument parser and answer `--help` before any heavy import.
"""

import os
from typing import Dict, Tuple

# The two compressible matrices of every LSTM cell: W_i (allennlp's `input_linearity`) and W_h
# (`state_linearity`). A compression block's `target` picks one of them or both.
MATRIX_TARGETS: Tuple[str, ...] = ("input", "recurrent")
TARGET_MATRICES: Dict[str, Tuple[str, ...]] = {
    "input": ("input",),
    "recurrent": ("recurrent",),
    "both": MATRIX_TARGETS,
}
TARGET_CHOICES: Tuple[str, ...] = tuple(TARGET_MATRICES)
DEFAULT_TARGET = "both"
TARGET_LABELS = {"input": "W_i", "recurrent": "W_h", "both": "W_i+W_h"}

# One LSTM matrix of a biLM: (layer, direction, target), direction 0 forward and 1 backward.
MatrixKey = Tuple[int, int, str]

# hdf5 index 0 and 1 of the LSTM cells; allennlp's forward_layer_l / backward_layer_l.
DIRECTIONS: Tuple[str, ...] = ("forward", "backward")

# How the size of one factorization is given: exactly one of these keys.
RANK_KINDS: Tuple[str, ...] = ("rank", "fraction", "energy")

# Semi-NMF stopping rule: at most this many iterations, or stop once one improves the objective by a
# smaller share than the tolerance.
DEFAULT_MAX_ITERATIONS = 300
DEFAULT_TOLERANCE = 1e-5

# Calibration (activation-aware methods, `shrink`): sentences spread evenly over the text, by default.
DEFAULT_CALIBRATION_SENTENCES = 2000

# What sweeps and result tables write for the uncompressed model's method and target.
UNCOMPRESSED = "none"

# `compress-elmo embed`: what each sentence's dataset holds (allennlp 0.9's `allennlp elmo` --all,
# --top, --average: the three biLM layers, the top one, their average), the default batch size (allennlp
# 0.9's) and the default size of the character cache, in tokens.
EMBED_LAYERS: Tuple[str, ...] = ("all", "top", "average")
DEFAULT_EMBED_BATCH_SIZE = 64
DEFAULT_CHAR_CACHE = 50_000

# File names of an ELMo biLM folder (and of a compressed one written by `compress-elmo compress`).
OPTIONS_NAME = "options.json"
WEIGHTS_NAME = "weights.hdf5"

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# The demo biLM shipped in the package (elmo_compress/demo_bilm/README.md says how it was made).
DEMO_BILM_DIR = os.path.join(PACKAGE_DIR, "demo_bilm")
# The downstream demo tasks shipped in the package (elmo_compress/data/demo_tasks.py).
DEMO_TASKS_DIR = os.path.join(PACKAGE_DIR, "demo_tasks")

# `compress-elmo distill` / `DistillSettings` defaults: optimizer steps, sentences per step, Adam's
# initial learning rate (cosine decay to 0), steps between checkpoints; what `--train` may name.
DISTILL_STEPS = 300
DISTILL_BATCH_SIZE = 32
DISTILL_LEARNING_RATE = 1e-2
# Share of the distillation steps over which the learning rate rises linearly to its schedule.
DISTILL_WARMUP = 0.1
DISTILL_CHECKPOINT_EVERY = 100
DISTILL_TRAIN_CHOICES: Tuple[str, ...] = ("factors", "all")

# Teacher-forced reconstruction of each compressed cell (`shrink`'s stage before distillation):
# Adam steps per cell, teacher rows (timesteps) per step, Adam's initial learning rate (cosine decay to 0).
RECONSTRUCT_STEPS = 500
RECONSTRUCT_ROWS_PER_STEP = 2048
RECONSTRUCT_LEARNING_RATE = 3e-3
