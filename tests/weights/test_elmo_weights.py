import hashlib
import json
from pathlib import Path

import h5py
import numpy
import pytest
import torch
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.errors import ElmoWeightsError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.weights import ElmoWeights, compress_weights
from elmo_compress.constants import MATRIX_TARGETS
from elmo_compress.weights import layout
from elmo_compress.weights.layout import cell_module_name

from tests.helpers import write_random_bilm


def _datasets(path: str):
    found = {}
    with h5py.File(path, "r") as hdf5_file:
        hdf5_file.visititems(
            lambda name, item: found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None
        )
    return found


@pytest.fixture(params=["demo", "plain_h5py"])
def official_file(request, demo_bilm, tmp_path: Path):
    """An official-format biLM: the shipped demo biLM, or random weights written by plain h5py calls
    (groups made on the way, as bilm-tf writes them), not by this package's writer."""
    if request.param == "demo":
        return demo_bilm
    options_file, _ = write_random_bilm(tmp_path / "source", projection_dim=16, cell_dim=64)
    path = tmp_path / "plain.hdf5"
    with h5py.File(path, "w") as hdf5_file:
        for name, array in _datasets(str(tmp_path / "source" / "weights.hdf5")).items():
            hdf5_file.create_dataset(name, data=array)
    return options_file, str(path)


def test_official_round_trip_is_bit_exact(official_file, tmp_path: Path):
    options_file, weight_file = official_file
    ElmoWeights.load(options_file, weight_file).save(str(tmp_path / "copy.hdf5"))
    original, copy = _datasets(weight_file), _datasets(str(tmp_path / "copy.hdf5"))
    assert sorted(original) == sorted(copy)
    for name in original:
        assert original[name].dtype == copy[name].dtype, name
        assert numpy.array_equal(original[name], copy[name]), name


def test_conversion_matches_allennlp_load_weights_exactly(official_file):
    options_file, weight_file = official_file
    weights = ElmoWeights.load(options_file, weight_file)
    lstm = ElmoLstm(**weights.options.elmo_lstm_arguments())
    lstm.load_weights(weight_file)
    for layer, direction in weights.cells():
        cell = getattr(lstm, cell_module_name(layer, direction))
        ours = weights.cell(layer, direction)
        assert torch.equal(ours.input.to_dense(), cell.input_linearity.weight.data)
        assert torch.equal(ours.recurrent.to_dense(), cell.state_linearity.weight.data)
        # the +1 forget bias is added where allennlp adds it: on the way into the module
        assert torch.equal(ours.module_bias(), cell.state_linearity.bias.data)
        assert torch.equal(ours.projection, cell.state_projection.weight.data)


def test_torch_to_file_inverts_file_to_torch_exactly(official_file):
    options_file, weight_file = official_file
    weights = ElmoWeights.load(options_file, weight_file)
    datasets = _datasets(weight_file)
    written = layout.torch_to_file(weights.char_encoder, weights.lstm, with_w_0=True)
    assert sorted(written) == sorted(datasets)
    for name, array in datasets.items():
        assert written[name].dtype == array.dtype and numpy.array_equal(written[name], array), name


def test_forget_bias_is_added_once_in_float32():
    bias = torch.tensor([0.1, 0.2, 1e-8, -0.5, 0.3, 0.4, 0.5, 0.6], dtype=torch.float32)
    module_bias = layout.with_forget_bias(bias, cell_size=2)
    assert torch.equal(module_bias[2:4], bias[2:4] + 1) and torch.equal(module_bias[[0, 1, 4, 5, 6, 7]], bias[[0, 1, 4, 5, 6, 7]])
    assert torch.equal(bias[2], torch.tensor(1e-8))  # the input is not changed in place
    # the way back is exact only where b + 1 - 1 == b: 1e-8 is lost in float32, which is why a file's bias is kept as read
    back = layout.without_forget_bias(module_bias, cell_size=2)
    assert back[2] == 0 and back[3] == bias[3]


@pytest.mark.parametrize("method", ["svd", "semi_nmf", "prune"])
def test_compressed_file_round_trip(random_bilm, tmp_path: Path, method: str):
    weights = ElmoWeights.load(*random_bilm)
    spec = CompressionSpec.from_dict({"method": method, "target": "both", "rank": 3, "seed": 7})
    compressed, _ = compress_weights(weights, spec, source="weights.hdf5")
    path = str(tmp_path / "compressed.hdf5")
    compressed.save(path)
    loaded = ElmoWeights.load(random_bilm[0], path)
    assert loaded.is_compressed
    assert loaded.metadata["compression"] == spec.to_dict()
    assert loaded.metadata["seed"] == 7
    for layer, direction in weights.cells():
        for target in MATRIX_TARGETS:
            ours, theirs = compressed.matrix(layer, direction, target), loaded.matrix(layer, direction, target)
            assert (ours.method, ours.rank, ours.num_parameters()) == (
                theirs.method,
                theirs.rank,
                theirs.num_parameters(),
            )
            assert torch.equal(ours.to_dense(), theirs.to_dense())
    assert not any(name.endswith("W_0") for name in _datasets(path))
    with h5py.File(path, "r") as hdf5_file:
        attributes = hdf5_file["compressed_lstm/RNN_1/Cell0/recurrent"].attrs
        assert (attributes["method"], attributes["layer"], attributes["direction"]) == (method, 0, 1)
        assert json.loads(hdf5_file.attrs["metadata"])["elmo_compress_version"]


def _attributes(path: str):
    found = {}
    with h5py.File(path, "r") as hdf5_file:
        found["/"] = dict(hdf5_file.attrs)
        hdf5_file.visititems(lambda name, item: found.__setitem__(name, dict(item.attrs)))
    return found


def _random_second_moments(weights: ElmoWeights):
    generator = torch.Generator().manual_seed(3)
    moments = {}
    for key, matrix in weights.matrices.items():
        samples = torch.randn(64, matrix.shape[1], generator=generator, dtype=torch.float64)
        moments[key] = samples.t() @ samples / 64
    return moments


@pytest.mark.parametrize("method", ["svd", "asvd", "semi_nmf", "prune"])
def test_compressed_file_load_save_is_bit_exact(random_bilm, tmp_path: Path, method: str):
    weights = ElmoWeights.load(*random_bilm)
    spec = CompressionSpec.from_dict({"method": method, "target": "both", "rank": 3, "seed": 2})
    statistics = _random_second_moments(weights) if method == "asvd" else None
    first, second = str(tmp_path / "first.hdf5"), str(tmp_path / "second.hdf5")
    compress_weights(weights, spec, statistics=statistics)[0].save(first)
    ElmoWeights.load(random_bilm[0], first).save(second)
    original, copy = _datasets(first), _datasets(second)
    assert sorted(original) == sorted(copy)
    for name in original:
        assert original[name].dtype == copy[name].dtype and numpy.array_equal(original[name], copy[name]), name
    original_attributes, copy_attributes = _attributes(first), _attributes(second)
    assert sorted(original_attributes) == sorted(copy_attributes)
    for name, attributes in original_attributes.items():
        assert sorted(attributes) == sorted(copy_attributes[name]), name
        for key, value in attributes.items():
            assert numpy.array_equal(numpy.asarray(value), numpy.asarray(copy_attributes[name][key])), (name, key)
    assert Path(first).read_bytes() == Path(second).read_bytes()


def test_same_input_and_seed_give_same_bytes(random_bilm, tmp_path: Path):
    digests = []
    for attempt in range(2):
        weights = ElmoWeights.load(*random_bilm)
        spec = CompressionSpec.from_dict({"method": "semi_nmf", "target": "recurrent", "rank": 4, "seed": 1})
        path = tmp_path / f"compressed_{attempt}.hdf5"
        compress_weights(weights, spec)[0].save(str(path))
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_missing_weights_file(random_bilm, tmp_path: Path):
    with pytest.raises(ElmoWeightsError, match="weights file not found"):
        ElmoWeights.load(random_bilm[0], str(tmp_path / "nope.hdf5"))


def test_missing_options_file(random_bilm, tmp_path: Path):
    with pytest.raises(ElmoWeightsError, match="options file not found"):
        ElmoWeights.load(str(tmp_path / "nope.json"), random_bilm[1])


def test_corrupt_weights_file(random_bilm, tmp_path: Path):
    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_bytes(b"this is not hdf5" * 100)
    with pytest.raises(ElmoWeightsError, match="not a readable hdf5 file"):
        ElmoWeights.load(random_bilm[0], str(corrupt))


def test_truncated_weights_file(random_bilm, tmp_path: Path):
    truncated = tmp_path / "truncated.hdf5"
    truncated.write_bytes(Path(random_bilm[1]).read_bytes()[:4000])
    with pytest.raises(ElmoWeightsError, match="not a readable hdf5 file"):
        ElmoWeights.load(random_bilm[0], str(truncated))


def test_options_that_do_not_match_the_weights(random_bilm, tmp_path: Path):
    options = json.loads(Path(random_bilm[0]).read_text())
    options["lstm"]["dim"] = 32
    wrong = tmp_path / "wrong_options.json"
    wrong.write_text(json.dumps(options))
    with pytest.raises(
        ElmoWeightsError, match=r"options/weights mismatch: RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0"
    ):
        ElmoWeights.load(str(wrong), random_bilm[1])


def test_options_with_more_layers_than_the_weights(random_bilm, tmp_path: Path):
    options = json.loads(Path(random_bilm[0]).read_text())
    options["lstm"]["n_layers"] = 3
    wrong = tmp_path / "wrong_options.json"
    wrong.write_text(json.dumps(options))
    with pytest.raises(ElmoWeightsError, match="lack dataset RNN_0/RNN/MultiRNNCell/Cell2"):
        ElmoWeights.load(str(wrong), random_bilm[1])


def test_options_that_are_not_json(random_bilm, tmp_path: Path):
    wrong = tmp_path / "options.json"
    wrong.write_text("{not json")
    with pytest.raises(ElmoWeightsError, match="not valid JSON"):
        ElmoWeights.load(str(wrong), random_bilm[1])


def test_compressing_compressed_weights_is_refused(random_bilm):
    weights = ElmoWeights.load(*random_bilm)
    spec = CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": 2})
    compressed, _ = compress_weights(weights, spec)
    with pytest.raises(ValueError, match="already compressed"):
        compress_weights(compressed, spec)
