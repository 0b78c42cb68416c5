"""
Shared fixtures. Every test runs on data it makes or files the package ships (the demo biLM, the demo
tasks); only the comparison with the TensorFlow reference outputs reads ../shared (marked
`needs_shared`, skipped with the reason when the folder is absent).
"""

from pathlib import Path
from typing import Tuple

import pytest

from elmo_compress.constants import DEMO_BILM_DIR, OPTIONS_NAME, WEIGHTS_NAME

from tests.helpers import shared_fixture, write_random_bilm


@pytest.fixture
def tf_reference_bilm() -> Tuple[str, str]:
    """allennlp's toy biLM, the one with TensorFlow reference outputs: (options.json, lm_weights.hdf5)."""
    folder = shared_fixture("elmo")
    return str(folder / "options.json"), str(folder / "lm_weights.hdf5")


@pytest.fixture
def random_bilm(tmp_path: Path) -> Tuple[str, str]:
    return write_random_bilm(tmp_path / "bilm")


@pytest.fixture(scope="session")
def demo_bilm() -> Tuple[str, str]:
    """The demo biLM shipped in the package: (options.json, weights.hdf5)."""
    return str(Path(DEMO_BILM_DIR) / OPTIONS_NAME), str(Path(DEMO_BILM_DIR) / WEIGHTS_NAME)
