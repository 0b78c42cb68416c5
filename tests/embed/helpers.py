"""Input texts the embed tests make, and running `compress-elmo embed` in process."""

from pathlib import Path
from typing import List, Sequence, Tuple

import h5py
import numpy

# Lengths 1 to 9, a line that appears twice (sentence_to_index keeps its last index), non-ASCII text
# and a token longer than ELMo's 50 characters (truncated by the character mapper).
LINES = [
    "the cat sat on the mat .",
    "a dog ran .",
    "compression keeps ELMo vectors close to the original ones",
    "hi",
    "the cat sat on the mat .",
    "naïve café — ünïcödé tokens",
    "a " + "x" * 60 + " token",
    "low-rank factors : W ≈ L R",
    "the dog saw the cat on the log .",
    "one more line",
]


def write_text(folder: Path, lines: Sequence[str] = LINES, name: str = "input.txt") -> str:
    path = folder / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def embed_arguments(demo_bilm: Tuple[str, str], input_file: str, output_file: Path, *extra: str) -> List[str]:
    return ["embed", *demo_bilm, input_file, "-o", str(output_file), *extra]


def read_datasets(path: Path):
    """(datasets by name, root attributes) of an hdf5 file."""
    with h5py.File(path, "r") as hdf5_file:
        return {name: item[()] for name, item in hdf5_file.items()}, dict(hdf5_file.attrs)


def vectors(path: Path) -> List[numpy.ndarray]:
    """The line datasets of a vectors file, in line order."""
    datasets, _ = read_datasets(path)
    return [datasets[str(index)] for index in range(len(datasets) - 1)]
