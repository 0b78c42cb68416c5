"""
The file layout is converted once per file: a `shrink` run on the demo biLM (every stage: calibration,
allocation, factorization, reconstruction, distillation, perplexity, writing) reads its weights file
with one TensorFlow -> torch conversion and writes its weights file with one torch -> TensorFlow
conversion; every stage in between works on the torch form.
"""

from pathlib import Path

import pytest

from elmo_compress.constants import OPTIONS_NAME, WEIGHTS_NAME
from elmo_compress.weights import ElmoWeights, layout

from tests.helpers import run_cli


@pytest.fixture
def conversions(monkeypatch):
    """Counts of `layout.file_to_torch` / `layout.torch_to_file` calls while the test runs."""
    counts = {"read": 0, "write": 0}
    read, write = layout.file_to_torch, layout.torch_to_file

    def counted_read(*arguments, **keywords):
        counts["read"] += 1
        return read(*arguments, **keywords)

    def counted_write(*arguments, **keywords):
        counts["write"] += 1
        return write(*arguments, **keywords)

    monkeypatch.setattr(layout, "file_to_torch", counted_read)
    monkeypatch.setattr(layout, "torch_to_file", counted_write)
    return counts


@pytest.mark.slow
def test_one_shrink_run_converts_once_per_file(demo_bilm, conversions, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ELMO_COMPRESS_CACHE", str(tmp_path / "cache"))
    options_file, weight_file = demo_bilm
    arguments = [
        "shrink", options_file, weight_file, "--budget", "0.3", "--calibration-sentences", "40",
        "--reconstruct-steps", "2", "--distill-steps", "2", "-o", str(tmp_path / "out"),
    ]
    assert run_cli(arguments) == 0
    # read: the demo weights.hdf5; write: out/weights.hdf5
    assert conversions == {"read": 1, "write": 1}
    assert ElmoWeights.load(str(tmp_path / "out" / OPTIONS_NAME), str(tmp_path / "out" / WEIGHTS_NAME)).is_compressed


def test_load_and_save_convert_once_each(random_bilm, conversions, tmp_path: Path) -> None:
    weights = ElmoWeights.load(*random_bilm)
    assert conversions == {"read": 1, "write": 0}
    weights.save(str(tmp_path / "copy.hdf5"))
    assert conversions == {"read": 1, "write": 1}
