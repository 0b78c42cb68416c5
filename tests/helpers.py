"""
Helpers shared by the tests: data they make (random matrices, random biLMs, tiny corpora, result CSVs),
the one place that reads ../shared (the TensorFlow reference outputs), and the checks every bad-input
test makes (one error line, no output left behind).
"""

import csv
import os
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest
import torch
from allennlp.commands.train import train_model
from allennlp.common import Params

from elmo_compress.weights.synthetic import elmo_options, random_elmo_weights

# ------------------------------------------------------------------ ../shared

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def shared_fixture(*parts: str) -> Path:
    """Path under ../shared/fixtures, or skip the test (with the reason) when it is not beside the checkout."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the TensorFlow reference outputs ({path}) are absent: ../shared is not beside this checkout")
    return path


# ------------------------------------------------------------------ matrices


def random_matrix(rows: int, columns: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Standard normal entries, shape (rows, columns)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(rows, columns, generator=generator, dtype=torch.float64).to(dtype)


def random_orthonormal(rows: int, columns: int, seed: int) -> torch.Tensor:
    """Shape (rows, columns) with orthonormal columns (rows >= columns), from a QR decomposition."""
    q, r = torch.linalg.qr(random_matrix(rows, columns, seed))
    return q * torch.sign(torch.diagonal(r))


def matrix_with_spectrum(rows: int, columns: int, spectrum: Sequence[float], seed: int = 0) -> torch.Tensor:
    """`U diag(spectrum) V^T`, shape (rows, columns), float64; `len(spectrum) <= min(rows, columns)`."""
    values = torch.tensor(spectrum, dtype=torch.float64)
    u = random_orthonormal(rows, len(values), seed)
    v = random_orthonormal(columns, len(values), seed + 1)
    return (u * values) @ v.t()


# ------------------------------------------------------------------ biLMs


def unfactorized_tensors(weights) -> Dict[str, torch.Tensor]:
    """Every tensor of an `ElmoWeights` but its LSTM input and recurrent matrices, by name."""
    tensors = {f"char_encoder.{name}": tensor for name, tensor in weights.char_encoder.tensors().items()}
    for (layer, direction), cell in sorted(weights.lstm.items()):
        tensors[f"{layer}/{direction}/bias"] = cell.bias
        tensors[f"{layer}/{direction}/projection"] = cell.projection
    return tensors


def same_tensors(first: Dict[str, torch.Tensor], second: Dict[str, torch.Tensor]) -> bool:
    return first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)


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


SENTENCES = [
    "the cat sat on the mat .".split(),
    "the dog sat on the log .".split(),
    "a cat saw a dog .".split(),
    "the dog saw the cat on the mat .".split(),
    "a dog sat .".split(),
    "the cat ran .".split(),
] * 4


def tiny_config(**changes):
    """A `PretrainConfig` small enough to train in a second."""
    from elmo_compress.lm import PretrainConfig

    config = dict(
        projection_dim=8,
        cell_dim=16,
        filters=[[1, 8], [2, 8]],
        char_embedding_dim=4,
        steps=30,
        batch_size=6,
        learning_rate=0.01,
        checkpoint_every=10,
        dropout=0.0,
    )
    config.update(changes)
    return PretrainConfig(**config)


# ------------------------------------------------------------------ result tables (analysis --sweep)

RESULT_COLUMNS = ["method", "target", "rank", "metric_name", "metric", "metric_drop", "training_steps"]
BASELINE = 80.0

# (method, target, rank, accuracy); drop = BASELINE - accuracy.
SETTINGS = [
    ("svd", "input", 8, 70.0),
    ("svd", "recurrent", 8, 78.0),
    ("svd", "input", 16, 76.0),
    ("svd", "recurrent", 16, 79.0),
    ("svd", "both", 16, 74.0),
    ("prune", "input", 8, 75.0),
    ("prune", "recurrent", 8, 72.0),
    ("prune", "input", 16, 79.5),
    ("prune", "recurrent", 16, 79.5),
]


def sweep_rows(settings: Sequence[tuple] = SETTINGS) -> List[Dict[str, object]]:
    rows: List[Dict[str, object]] = [
        {"method": "none", "target": "none", "rank": "", "metric": BASELINE, "metric_drop": 0.0}
    ]
    for method, target, rank, accuracy in settings:
        rows.append({"method": method, "target": target, "rank": rank, "metric": accuracy, "metric_drop": BASELINE - accuracy})
    for row in rows:
        row.update(metric_name="accuracy", training_steps=0)
    return rows


def write_sweep(path: Path, rows: Sequence[Dict[str, object]], columns: Sequence[str] = RESULT_COLUMNS) -> str:
    with open(path, "w", encoding="utf-8", newline="") as sweep_file:
        writer = csv.DictWriter(sweep_file, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


# ------------------------------------------------------------------ bad input


def one_error_line(capsys, expected: str = "", prog: str = "compress-elmo") -> str:
    """The captured stderr is exactly one `prog[ VERB]: error: ...` line (usage errors name the verb) containing `expected`."""
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(prog) and ": error: " in error, error
    assert expected in error, error
    return error.strip()


def assert_no_output(path: Path) -> None:
    """Nothing at `path`, or an empty folder, and no temporary leftovers beside it."""
    assert not path.exists() or (path.is_dir() and not any(path.iterdir())), list(path.iterdir()) if path.is_dir() else path
    parent = path.parent
    if parent.exists():
        leftovers = [p.name for p in parent.iterdir() if p.name.startswith(f".{path.name}.")]
        assert not leftovers, leftovers


def run_cli(arguments: Sequence[str]) -> int:
    """`compress-elmo ARGUMENTS` in process; usage errors (argparse's SystemExit) give their status."""
    from elmo_compress.commands import main

    try:
        return main(list(arguments))
    except SystemExit as exit_:
        return int(exit_.code)


def train_sst_archive(folder: Path, trees: str) -> Path:
    """
    A trained allennlp archive without ELMo, made in a second: allennlp-models' `sst_tokens` reader
    on `trees` (SST trees, one per line) as its training data, a bag-of-embeddings classifier.
    """
    data = folder / "train.txt"
    data.write_text(trees, encoding="utf-8")
    params = {
        "dataset_reader": {"type": "sst_tokens"},
        "train_data_path": str(data),
        "model": {
            "type": "basic_classifier",
            "text_field_embedder": {"token_embedders": {"tokens": {"type": "embedding", "embedding_dim": 4}}},
            "seq2vec_encoder": {"type": "boe", "embedding_dim": 4},
        },
        "data_loader": {"batch_size": 2},
        "trainer": {"num_epochs": 1, "optimizer": "adam"},
    }
    train_model(Params(params), str(folder / "run"))
    return folder / "run" / "model.tar.gz"
