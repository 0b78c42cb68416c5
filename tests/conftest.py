"""
Shared test fixtures. Tests that read `../shared/fixtures` (allennlp's toy biLM with TensorFlow
reference outputs, tiny task files) skip with a reason when that folder is absent; everything else
builds its own data.
"""

import os
from pathlib import Path
from typing import Tuple

import pytest

from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def shared_fixture(*parts: str) -> Path:
    """Path under ../shared/fixtures, or skip the test when the shared folder is not beside the checkout."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture {path} is absent (../shared is not beside this checkout)")
    return path


@pytest.fixture
def elmo_fixture() -> Tuple[str, str]:
    """allennlp's toy biLM: (options.json, lm_weights.hdf5)."""
    folder = shared_fixture("elmo")
    return str(folder / "options.json"), str(folder / "lm_weights.hdf5")


def write_random_bilm(folder: Path, projection_dim: int = 8, cell_dim: int = 24, seed: int = 0) -> Tuple[str, str]:
    """A small random official-format biLM in `folder`: (options.json, weights.hdf5)."""
    os.makedirs(folder, exist_ok=True)
    weights = random_elmo_weights(
        elmo_options(projection_dim, cell_dim, filters=((1, 4), (2, 8), (3, 8)), char_embedding_dim=4),
        seed=seed,
    )
    options_file, weight_file = str(folder / "options.json"), str(folder / "weights.hdf5")
    weights.options.save(options_file)
    weights.save(weight_file)
    return options_file, weight_file


@pytest.fixture
def random_bilm(tmp_path: Path) -> Tuple[str, str]:
    return write_random_bilm(tmp_path / "bilm")
