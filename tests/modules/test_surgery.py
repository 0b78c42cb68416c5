import pytest
import torch
from allennlp.modules.elmo import _ElmoBiLm, batch_to_ids

from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, LowRankLinear, PrunedLinear, compress_elmo_bilm
from elmo_compress.modules.runtime_options import ALLENNLP_LOOP

SENTENCES = [["The", "cat", "sat", "."], ["A", "much", "longer", "sentence", "about", "dogs", "."], ["Hi"]]


def _outputs(bilm: torch.nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return torch.stack(bilm(batch_to_ids(SENTENCES))["activations"])


@pytest.mark.parametrize("method,target", [("svd", "recurrent"), ("semi_nmf", "input"), ("prune", "both")])
def test_in_place_surgery_equals_compression_at_load(random_bilm, method: str, target: str):
    spec = CompressionSpec.from_dict({"method": method, "target": target, "rank": 3})
    bilm = _ElmoBiLm(*random_bilm)
    reports = compress_elmo_bilm(bilm, spec)
    expected_type = PrunedLinear if method == "prune" else LowRankLinear
    cell = bilm._elmo_lstm.backward_layer_1
    for attribute, name in (("input_linearity", "input"), ("state_linearity", "recurrent")):
        compressed = name in spec.targets()
        assert isinstance(getattr(cell, attribute), expected_type if compressed else torch.nn.Linear)
    assert len(reports) == 8 and {r.method for r in reports if r.target in spec.targets()} == {method}
    assert torch.equal(_outputs(bilm), _outputs(CompressedElmoBiLm(*random_bilm, compression=spec, runtime=ALLENNLP_LOOP)))


def test_surgery_keeps_requires_grad(random_bilm):
    bilm = _ElmoBiLm(*random_bilm, requires_grad=True)
    compress_elmo_bilm(bilm, CompressionSpec.from_dict({"method": "svd", "target": "both", "rank": 2}))
    assert all(parameter.requires_grad for parameter in bilm._elmo_lstm.parameters())


def test_surgery_twice_is_refused(random_bilm):
    bilm = _ElmoBiLm(*random_bilm)
    spec = CompressionSpec.from_dict({"method": "svd", "target": "recurrent", "rank": 2})
    compress_elmo_bilm(bilm, spec)
    with pytest.raises(CompressionSpecError, match="already compressed"):
        compress_elmo_bilm(bilm, spec)


def test_rank_above_min_dimension_names_the_matrix(random_bilm):
    spec = CompressionSpec.from_dict({"method": "svd", "target": "input", "rank": 9})
    with pytest.raises(CompressionSpecError, match="layer 0 forward input"):
        CompressedElmoBiLm(*random_bilm, compression=spec)
