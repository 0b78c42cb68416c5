"""
`compress-elmo embed`: the vectors are allennlp's `_ElmoBiLm` activations run the same way (sentence
boundaries removed; LSTM states reset per batch, or carried in file order with --stateful) at every
--layers; the file has allennlp 0.9's layout and records what it was computed from; compressed weights
and the character cache work; bad input is one error line, exit status 2 and no file.
"""

import json
from pathlib import Path
from typing import List

import numpy
import pytest
import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids
from allennlp.nn.util import remove_sentence_boundaries

from elmo_compress.constants import DEFAULT_CHAR_CACHE
from elmo_compress.weights import file_sha256

from tests.embed.helpers import LINES, embed_arguments, read_datasets, vectors, write_text
from tests.helpers import assert_no_output, one_error_line, run_cli


def _allennlp_vectors(demo_bilm, lines: List[str], batch_size: int, stateful: bool) -> List[numpy.ndarray]:
    """allennlp's own biLM over consecutive batches: (3, tokens, dim) per line."""
    bilm = _ElmoBiLm(*demo_bilm)
    result = []
    for start in range(0, len(lines), batch_size):
        if not stateful:
            bilm._elmo_lstm.reset_states()
        batch = [line.split() for line in lines[start : start + batch_size]]
        with torch.no_grad():
            output = bilm(batch_to_ids(batch))
        layers = [remove_sentence_boundaries(layer, output["mask"]) for layer in output["activations"]]
        for row, tokens in enumerate(batch):
            result.append(torch.stack([layer[row, : len(tokens)] for layer, _ in layers]).numpy())
    return result


LAYERS = {
    "all": lambda activations: activations,
    "top": lambda activations: activations[2],
    "average": lambda activations: activations.mean(axis=0),
}


@pytest.mark.parametrize("layers", ["all", "top", "average"])
def test_vectors_are_allennlps_bilm_with_states_reset_per_batch(demo_bilm, tmp_path: Path, layers: str):
    output = tmp_path / "vectors.hdf5"
    arguments = embed_arguments(demo_bilm, write_text(tmp_path), output, "--layers", layers, "--batch-size", "3")
    assert run_cli(arguments) == 0
    expected = _allennlp_vectors(demo_bilm, LINES, batch_size=3, stateful=False)
    for actual, reference in zip(vectors(output), expected):
        numpy.testing.assert_allclose(actual, LAYERS[layers](reference), rtol=0, atol=1e-5)


def test_stateful_is_allennlps_stateful_bilm_over_lines_in_file_order(demo_bilm, tmp_path: Path):
    output = tmp_path / "vectors.hdf5"
    assert run_cli(embed_arguments(demo_bilm, write_text(tmp_path), output, "--stateful", "--batch-size", "2")) == 0
    expected = _allennlp_vectors(demo_bilm, LINES, batch_size=2, stateful=True)
    stateless = _allennlp_vectors(demo_bilm, LINES, batch_size=2, stateful=False)
    for actual, reference in zip(vectors(output), expected):
        numpy.testing.assert_allclose(actual, reference, rtol=0, atol=1e-5)
    assert not numpy.allclose(vectors(output)[-1], stateless[-1], atol=1e-3)  # the states did carry over
    _, attributes = read_datasets(output)
    assert attributes["lstm_states"] == "carried from batch to batch"


@pytest.mark.parametrize("layers,shape", [("all", (3, None, 128)), ("top", (None, 128)), ("average", (None, 128))])
def test_layout(demo_bilm, tmp_path: Path, layers: str, shape):
    input_file, output = write_text(tmp_path), tmp_path / "vectors.hdf5"
    assert run_cli(embed_arguments(demo_bilm, input_file, output, "--layers", layers)) == 0
    datasets, attributes = read_datasets(output)
    assert set(datasets) == {str(index) for index in range(len(LINES))} | {"sentence_to_index"}
    for index, line in enumerate(LINES):
        array = datasets[str(index)]
        assert array.dtype == numpy.float32
        assert array.shape == tuple(len(line.split()) if size is None else size for size in shape)
    texts = datasets["sentence_to_index"]
    assert texts.shape == (1,)
    index = json.loads(texts[0])
    assert index == {line: str(max(i for i, other in enumerate(LINES) if other == line)) for line in LINES}
    assert index["the cat sat on the mat ."] == "4"  # the last of its two lines, as allennlp 0.9
    assert attributes == {
        "producer": "compress-elmo embed",
        "input_sha256": file_sha256(input_file),
        "sentences": len(LINES),
        "options_sha256": file_sha256(demo_bilm[0]),
        "weights_sha256": file_sha256(demo_bilm[1]),
        "layers": layers,
        "batch_size": 64,
        "lstm_states": "reset per batch",
        "int8": 0,
        "char_cache": 50_000,
        "shard": "1/1",
    }


def test_same_input_same_bytes(demo_bilm, tmp_path: Path):
    input_file = write_text(tmp_path)
    for name in ("first.hdf5", "second.hdf5"):
        assert run_cli(embed_arguments(demo_bilm, input_file, tmp_path / name, "--batch-size", "4")) == 0
    assert (tmp_path / "first.hdf5").read_bytes() == (tmp_path / "second.hdf5").read_bytes()


@pytest.mark.parametrize("cache", ["0", "4"])
def test_character_cache_gives_the_same_vectors(demo_bilm, tmp_path: Path, cache: str):
    input_file = write_text(tmp_path)
    assert run_cli(embed_arguments(demo_bilm, input_file, tmp_path / "default.hdf5", "--batch-size", "3")) == 0
    assert run_cli(embed_arguments(demo_bilm, input_file, tmp_path / "other.hdf5", "--batch-size", "3", "--char-cache", cache)) == 0
    for actual, reference in zip(vectors(tmp_path / "other.hdf5"), vectors(tmp_path / "default.hdf5")):
        numpy.testing.assert_allclose(actual, reference, rtol=0, atol=1e-5)
    assert read_datasets(tmp_path / "other.hdf5")[1]["char_cache"] == int(cache)


def test_compressed_weights(demo_bilm, tmp_path: Path):
    compressed = tmp_path / "compressed"
    assert run_cli(["compress", *demo_bilm, "-o", str(compressed), "--method", "svd", "--target", "both", "--rank", "16"]) == 0
    weights = (str(compressed / "options.json"), str(compressed / "weights.hdf5"))
    input_file = write_text(tmp_path)
    assert run_cli(embed_arguments(weights, input_file, tmp_path / "compressed.hdf5", "--layers", "top")) == 0
    assert run_cli(embed_arguments(demo_bilm, input_file, tmp_path / "original.hdf5", "--layers", "top")) == 0
    for actual, reference in zip(vectors(tmp_path / "compressed.hdf5"), vectors(tmp_path / "original.hdf5")):
        assert actual.shape == reference.shape and numpy.isfinite(actual).all()
        assert not numpy.allclose(actual, reference, atol=1e-3)  # rank 16 of 64 changes the vectors
    assert read_datasets(tmp_path / "compressed.hdf5")[1]["weights_sha256"] == file_sha256(weights[1])


def test_int8_runs_with_the_cache(demo_bilm, tmp_path: Path):
    """int8 quantizes the LSTM and keeps the cache (the character encoder stays float: RuntimeOptions.int8)."""
    output = tmp_path / "vectors.hdf5"
    assert run_cli(embed_arguments(demo_bilm, write_text(tmp_path), output, "--int8", "--layers", "average")) == 0
    _, attributes = read_datasets(output)
    assert attributes["int8"] == 1 and attributes["char_cache"] == DEFAULT_CHAR_CACHE


def test_help_says_stateless_and_the_stateful_order(capsys):
    assert run_cli(["embed", "--help"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "Stateless by default: LSTM states start from zero in every batch" in printed
    assert "batches are then consecutive lines in file order" in printed


def test_force_replaces_an_existing_output(demo_bilm, tmp_path: Path, capsys):
    output = tmp_path / "vectors.hdf5"
    output.write_bytes(b"old")
    assert run_cli(embed_arguments(demo_bilm, write_text(tmp_path), output, "--force")) == 0
    assert output.read_bytes()[:4] == b"\x89HDF"
    printed = capsys.readouterr().out
    assert "LSTM states reset per batch" in printed and f"wrote {output}" in printed


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "has no sentence"),
        (b"  \n\t\n", "has no sentence"),
        (b"a sentence\n\nanother\n", "1 blank line(s) (line 2)"),
        (b"ok\x00binary\n", "is binary"),
        (b"caf\xe9\n", "is not UTF-8 text"),
    ],
)
def test_bad_input_text(demo_bilm, tmp_path: Path, capsys, content: bytes, expected: str):
    input_file, output = tmp_path / "input.txt", tmp_path / "vectors.hdf5"
    input_file.write_bytes(content)
    assert run_cli(embed_arguments(demo_bilm, str(input_file), output)) == 2
    one_error_line(capsys, expected)
    assert_no_output(output)


def test_missing_input(demo_bilm, tmp_path: Path, capsys):
    assert run_cli(embed_arguments(demo_bilm, str(tmp_path / "none.txt"), tmp_path / "vectors.hdf5")) == 2
    one_error_line(capsys, "input file not found")
    assert_no_output(tmp_path / "vectors.hdf5")


def test_existing_output_without_force(demo_bilm, tmp_path: Path, capsys):
    output = tmp_path / "vectors.hdf5"
    output.write_bytes(b"keep me")
    assert run_cli(embed_arguments(demo_bilm, write_text(tmp_path), output)) == 2
    one_error_line(capsys, "exists; pass --force")
    assert output.read_bytes() == b"keep me"


def test_output_is_the_input(demo_bilm, tmp_path: Path, capsys):
    input_file = write_text(tmp_path)
    assert run_cli(embed_arguments(demo_bilm, input_file, Path(input_file), "--force")) == 2
    one_error_line(capsys, "is the input")
    assert Path(input_file).read_text(encoding="utf-8").splitlines() == LINES


def test_output_under_a_file(demo_bilm, tmp_path: Path, capsys):
    (tmp_path / "a_file").write_text("x")
    output = tmp_path / "a_file" / "vectors.hdf5"
    assert run_cli(embed_arguments(demo_bilm, write_text(tmp_path), output)) == 2
    one_error_line(capsys, "is a file, not a folder")
    assert (tmp_path / "a_file").read_text() == "x"


@pytest.mark.parametrize(
    "arguments,expected",
    [
        (["--shard", "3/2"], "--shard: a shard is K/N with 1 <= K <= N"),
        (["--shard", "0/2"], "got 0/2"),
        (["--shard", "a/b"], "got 'a/b'"),
        (["--batch-size", "0"], "--batch-size: must be an integer >= 1"),
        (["--char-cache", "-1"], "--char-cache: must be an integer >= 0"),
        (["--layers", "middle"], "--layers: invalid choice"),
        (["--cuda-device", "-2"], "--cuda-device: must be an integer >= -1"),
        (["--stateful", "--shard", "1/2"], "--stateful cannot be sharded"),
    ],
)
def test_bad_arguments(demo_bilm, tmp_path: Path, capsys, arguments: List[str], expected: str):
    output = tmp_path / "vectors.hdf5"
    assert run_cli(embed_arguments(demo_bilm, write_text(tmp_path), output, *arguments)) == 2
    one_error_line(capsys, expected)
    assert_no_output(output)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_device_without_cuda(demo_bilm, tmp_path: Path, capsys):
    output = tmp_path / "vectors.hdf5"
    assert run_cli(embed_arguments(demo_bilm, write_text(tmp_path), output, "--cuda-device", "0")) == 2
    one_error_line(capsys, "--cuda-device 0: CUDA is not available here")
    assert_no_output(output)


def test_missing_weights(demo_bilm, tmp_path: Path, capsys):
    output = tmp_path / "vectors.hdf5"
    assert run_cli(embed_arguments((demo_bilm[0], str(tmp_path / "none.hdf5")), write_text(tmp_path), output)) == 2
    one_error_line(capsys, "weights file not found")
    assert_no_output(output)
