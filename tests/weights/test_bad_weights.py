"""
Weights and options that would give wrong numbers are refused with one error naming the problem: NaN or
infinity in any matrix read or written, datasets that are not numbers, options of the wrong type or
that do not describe the file, corrupt compressed metadata.
"""

import json
from pathlib import Path

import h5py
import numpy
import pytest
import torch

from elmo_compress.errors import ElmoCompressError, ElmoWeightsError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.weights import ElmoWeights, compress_weights

from tests.helpers import assert_no_output, one_error_line, run_cli


def _edit_dataset(path: str, name: str, edit) -> None:
    with h5py.File(path, "r+") as hdf5_file:
        array = hdf5_file[name][()]
        del hdf5_file[name]
        hdf5_file.create_dataset(name, data=edit(array))


def _poison(value: float):
    def edit(array: numpy.ndarray) -> numpy.ndarray:
        array = array.copy()
        array.flat[3] = value
        return array

    return edit


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize(
    "dataset", ["CNN_high_0/W_carry", "char_embed", "RNN_1/RNN/MultiRNNCell/Cell0/LSTMCell/W_0", "CNN/b_cnn_2"]
)
def test_non_finite_values_are_refused_with_the_dataset_named(random_bilm, dataset: str, value: float):
    _edit_dataset(random_bilm[1], dataset, _poison(value))
    with pytest.raises(ElmoWeightsError, match=f"dataset {dataset} contains NaN or infinite values"):
        ElmoWeights.load(*random_bilm)


@pytest.mark.parametrize("verb", ["compress", "analyze"])
def test_the_cli_refuses_a_poisoned_file_in_one_line(random_bilm, tmp_path: Path, capsys, verb: str):
    _edit_dataset(random_bilm[1], "CNN_high_0/W_transform", _poison(float("nan")))
    arguments = [verb, *random_bilm, "-o", str(tmp_path / "out")] + (["--rank", "2"] if verb == "compress" else [])
    assert run_cli(arguments) == 2
    one_error_line(capsys, "CNN_high_0/W_transform contains NaN")
    assert_no_output(tmp_path / "out")


def test_datasets_that_are_not_numbers_are_refused(random_bilm):
    _edit_dataset(random_bilm[1], "CNN_proj/b_proj", lambda array: numpy.array([b"not", b"numbers"]))
    with pytest.raises(ElmoWeightsError, match="dataset CNN_proj/b_proj holds .*not numbers"):
        ElmoWeights.load(*random_bilm)


def _compressed_file(random_bilm, tmp_path: Path) -> str:
    spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": 3})
    path = str(tmp_path / "compressed.hdf5")
    compress_weights(ElmoWeights.load(*random_bilm), spec)[0].save(path)
    return path


def test_a_non_finite_factor_is_refused(random_bilm, tmp_path: Path):
    path = _compressed_file(random_bilm, tmp_path)
    _edit_dataset(path, "compressed_lstm/RNN_0/Cell1/recurrent/left", _poison(float("nan")))
    with pytest.raises(ElmoWeightsError, match="compressed_lstm/RNN_0/Cell1/recurrent/left contains NaN"):
        ElmoWeights.load(random_bilm[0], path)


@pytest.mark.parametrize(
    "attribute, value, expected",
    [
        ("metadata", "{not json", "metadata is not JSON"),
        ("metadata", "[1, 2]", "metadata must be a JSON object"),
        ("format_version", 99, "format version 99"),
    ],
)
def test_corrupt_compressed_attributes_are_refused(random_bilm, tmp_path: Path, attribute: str, value, expected: str):
    path = _compressed_file(random_bilm, tmp_path)
    with h5py.File(path, "r+") as hdf5_file:
        hdf5_file.attrs[attribute] = value
    with pytest.raises(ElmoWeightsError, match=expected):
        ElmoWeights.load(random_bilm[0], path)


def test_an_unknown_method_or_a_bad_rank_in_a_group_is_refused(random_bilm, tmp_path: Path):
    path = _compressed_file(random_bilm, tmp_path)
    with h5py.File(path, "r+") as hdf5_file:
        hdf5_file["compressed_lstm/RNN_1/Cell0/input"].attrs["method"] = "tucker"
    with pytest.raises(ElmoWeightsError, match="RNN_1/Cell0/input: unknown matrix method 'tucker'"):
        ElmoWeights.load(random_bilm[0], path)


def _options(random_bilm, tmp_path: Path, edit) -> str:
    options = json.loads(Path(random_bilm[0]).read_text())
    edit(options)
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options))
    return str(path)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda o: o["lstm"].update(dim="24"), "lstm.dim must be an integer >= 1, got '24'"),
        (lambda o: o["lstm"].update(projection_dim=8.0), "lstm.projection_dim must be an integer >= 1, got 8.0"),
        (lambda o: o["lstm"].update(n_layers=True), "lstm.n_layers must be an integer >= 1, got True"),
        (lambda o: o["lstm"].update(cell_clip=-3), "lstm.cell_clip must be a finite number >= 0"),
        (lambda o: o["char_cnn"].update(filters=[[1, "4"]]), "a filter count must be an integer >= 1"),
        (lambda o: o["char_cnn"].update(n_highway=2), "CNN_high_1/W_carry that the options imply"),
        (lambda o: o["char_cnn"].update(n_highway=0), "the weights have CNN_high_0"),
        (lambda o: o["lstm"].update(n_layers=1), "the weights have RNN_0/RNN/MultiRNNCell/Cell1"),
        (lambda o: o["char_cnn"].update(activation="gelu"), "activation must be relu or tanh"),
    ],
)
def test_options_of_the_wrong_type_or_shape_are_refused(random_bilm, tmp_path: Path, edit, expected: str):
    with pytest.raises(ElmoWeightsError, match=expected.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        ElmoWeights.load(_options(random_bilm, tmp_path, edit), random_bilm[1])


def test_nothing_non_finite_is_written(random_bilm, tmp_path: Path):
    weights = ElmoWeights.load(*random_bilm)
    weights.char_encoder.projection[1][0] = numpy.inf
    with pytest.raises(ElmoWeightsError, match="refusing to write weights: dataset CNN_proj/b_proj contains NaN"):
        weights.save(str(tmp_path / "out.hdf5"))
    assert not (tmp_path / "out.hdf5").exists()


def test_a_method_that_produces_non_finite_factors_is_refused():
    from elmo_compress.factorize import CompressedMatrix

    with pytest.raises(ElmoCompressError, match="left contains NaN"):
        CompressedMatrix("svd", (4, 3), 1, left=torch.full((4, 1), float("nan")), right=torch.ones(1, 3))
