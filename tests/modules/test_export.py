from pathlib import Path

import pytest

import numpy
import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids

from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, weights_from_bilm
from elmo_compress.weights import ElmoOptions, ElmoWeights

from tests.helpers import unfactorized_tensors

SENTENCES = [["Export", "what", "you", "load", "."], ["Twice", "."]]


def test_export_of_loaded_bilm_gives_back_the_file(demo_bilm):
    options_file, weight_file = demo_bilm
    exported = weights_from_bilm(_ElmoBiLm(options_file, weight_file), ElmoOptions.from_file(options_file))
    original = ElmoWeights.load(options_file, weight_file)
    assert not exported.is_compressed and exported.layout() == original.layout()
    for key, matrix in original.matrices.items():
        assert torch.equal(exported.matrices[key].to_dense(), matrix.to_dense()), key
    exported_tensors = unfactorized_tensors(exported)
    for name, tensor in unfactorized_tensors(original).items():
        if name.endswith("/bias"):  # b + 1 - 1 in float32: at most one unit in the last place of 1 + b
            numpy.testing.assert_array_max_ulp(exported_tensors[name].numpy() + 1, tensor.numpy() + 1, maxulp=1)
        else:
            assert torch.equal(exported_tensors[name], tensor), name


def test_export_of_compressed_bilm_reloads_to_identical_outputs(random_bilm, tmp_path: Path):
    options_file, weight_file = random_bilm
    spec = CompressionSpec.from_dict({"method": "prune", "target": "both", "rank": 3})
    bilm = CompressedElmoBiLm(options_file, weight_file, compression=spec)
    exported = weights_from_bilm(bilm, ElmoOptions.from_file(options_file), {"note": "test"})
    assert exported.is_compressed and exported.matrix(1, 0, "input").rank == 3
    path = str(tmp_path / "exported.hdf5")
    exported.save(path)
    reloaded = CompressedElmoBiLm(options_file, path)
    # Everything but the LSTM bias reloads bit for bit; the bias may move by one float32 step of 1 + b (the
    # file stores it without allennlp's +1 forget bias), which the float64 comparison below would show as
    # a difference of order 1e-7, so the bias is checked on its own and then copied to compare the rest.
    for key, value in bilm.state_dict().items():
        if key.endswith("state_linearity.bias"):
            numpy.testing.assert_array_max_ulp(reloaded.state_dict()[key].numpy() + 1, value.numpy() + 1, maxulp=1)
        else:
            assert torch.equal(reloaded.state_dict()[key], value), key
    reloaded.load_state_dict(bilm.state_dict())
    with torch.no_grad():
        expected = bilm(batch_to_ids(SENTENCES))["activations"][-1]
        actual = reloaded(batch_to_ids(SENTENCES))["activations"][-1]
    assert torch.equal(actual, expected)


@pytest.mark.parametrize("block", [None, {"method": "svd", "target": "both", "rank": 3}, {"method": "prune", "target": "recurrent", "rank": 2}])
def test_one_parameter_count_for_files_and_modules(random_bilm, block):
    """`compress` counts a weights file, `sweep` and `demo` count modules: the same numbers."""
    from elmo_compress.modules import bilm_parameter_counts
    from elmo_compress.weights import compress_weights

    weights = ElmoWeights.load(*random_bilm)
    if block is not None:
        weights, _ = compress_weights(weights, CompressionSpec.from_dict(block))
    bilm = CompressedElmoBiLm(weights=weights)
    matrices = sum(weights.matrix(l, d, t).num_parameters() for l, d in weights.cells() for t in ("input", "recurrent"))
    assert bilm_parameter_counts(bilm) == (weights.num_parameters(), matrices)
