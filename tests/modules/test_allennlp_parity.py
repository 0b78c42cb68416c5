"""
Our biLM built from a weights file is allennlp's: the same state dict and bit-identical outputs to
allennlp's own `_ElmoBiLm` (uncompressed, allennlp's loop), and at full rank the compressed paths
compute the uncompressed function (checked in float64, where the only difference, float rounding of
the factor product, is far below 1e-10).
"""

import copy

import pytest
import torch
from allennlp.modules.elmo import Elmo, _ElmoBiLm, batch_to_ids

from elmo_compress.embedders import CompressedElmo
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, LowRankLinear, compress_elmo_bilm
from elmo_compress.modules.runtime_options import ALLENNLP_LOOP

SENTENCES = [
    "The cat sat on the mat .".split(),
    "A much longer sentence about the dogs that barked all night long .".split(),
    "Hi".split(),
    "Compression of ELMo keeps the vectors close .".split(),
]
FULL_RANK = 64  # projection_dim of the demo biLM: min(m, n) of its 1024 x 64 matrices


@pytest.mark.parametrize("bilm_files", ["demo_bilm", "random_bilm"])
def test_uncompressed_equals_allennlp_bilm_exactly(request, bilm_files: str):
    files = request.getfixturevalue(bilm_files)
    ours, theirs = CompressedElmoBiLm(*files, runtime=ALLENNLP_LOOP), _ElmoBiLm(*files)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    character_ids = batch_to_ids(SENTENCES)
    with torch.no_grad():
        for ours_layer, theirs_layer in zip(ours(character_ids)["activations"], theirs(character_ids)["activations"]):
            assert torch.equal(ours_layer, theirs_layer)


@pytest.mark.parametrize("target", ["input", "recurrent", "both"])
def test_full_rank_svd_computes_the_uncompressed_function(demo_bilm, target: str):
    uncompressed = CompressedElmoBiLm(*demo_bilm).double()
    compressed = copy.deepcopy(uncompressed)
    # Surgery on the float64 biLM factorizes in float64: left @ right equals W to about 1e-15 of it.
    compress_elmo_bilm(compressed, CompressionSpec.from_dict({"method": "svd", "target": target, "rank": FULL_RANK}))
    assert any(isinstance(module, LowRankLinear) for module in compressed.modules())
    character_ids = batch_to_ids(SENTENCES)
    with torch.no_grad():
        for actual, expected in zip(compressed(character_ids)["activations"], uncompressed(character_ids)["activations"]):
            torch.testing.assert_close(actual, expected, rtol=0, atol=1e-10)


def test_compressed_elmo_is_allennlp_elmo_over_our_bilm(demo_bilm):
    """The registered `CompressedElmo` is allennlp's `Elmo` (scalar mixes, dropout, boundaries) on our biLM."""
    compression = {"method": "svd", "target": "both", "rank": 16}
    character_ids = batch_to_ids(SENTENCES)
    torch.manual_seed(0)
    bilm = CompressedElmoBiLm(*demo_bilm, compression=CompressionSpec.from_dict(compression))
    theirs = Elmo(None, None, num_output_representations=2, dropout=0.0, module=bilm)
    torch.manual_seed(0)
    ours = CompressedElmo(*demo_bilm, num_output_representations=2, dropout=0.0, compression=compression)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    with torch.no_grad():
        expected, actual = theirs(character_ids), ours(character_ids)
    assert torch.equal(expected["mask"], actual["mask"])
    for representation, reference in zip(actual["elmo_representations"], expected["elmo_representations"]):
        assert torch.equal(representation, reference)
