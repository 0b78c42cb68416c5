"""
Golden tests on allennlp's toy biLM: with no compression, and with SVD at full rank, our biLM
reproduces the TensorFlow reference outputs the way allennlp's own `elmo_test.test_elmo_bilm`
checks them (sentences fed in batches of three, in the reference's order, statefully), and
matches allennlp's own `_ElmoBiLm` / `Elmo` on the same input.
"""

import json
from typing import List, Tuple

import h5py
import numpy
import pytest
import torch
from allennlp.modules.elmo import Elmo, _ElmoBiLm, batch_to_ids
from allennlp.nn.util import remove_sentence_boundaries

from elmo_compress.embedders import CompressedElmo
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm, LowRankLinear

from tests.conftest import shared_fixture

FULL_RANK = 16  # projection_dim of the toy biLM: min(m, n) of its 256 x 16 matrices


def load_reference() -> Tuple[List[List[str]], List[List[numpy.ndarray]]]:
    """Sentences (3 files x 10) and the TF top-layer outputs, forward and backward concatenated."""
    folder = shared_fixture("elmo")
    sentences = json.loads((folder / "sentences.json").read_text())
    expected = []
    for k in range(len(sentences)):
        with h5py.File(folder / f"lm_embeddings_{k}.hdf5", "r") as embeddings:
            expected.append(
                [numpy.concatenate([embeddings[str(i)][0], embeddings[str(i)][1]], axis=-1) for i in range(10)]
            )
    return sentences, expected


def assert_matches_tf_reference(bilm: torch.nn.Module, atol: float) -> None:
    sentences, expected = load_reference()
    for i, batch in enumerate(zip(*sentences)):  # batch i: sentence i of each file, as the TF run did
        with torch.no_grad():
            output = bilm(batch_to_ids([sentence.split() for sentence in batch]))
        top_layer, mask = remove_sentence_boundaries(output["activations"][2], output["mask"])
        lengths = mask.sum(dim=1).tolist()
        assert lengths == [len(sentence.split()) for sentence in batch]
        for k in range(3):
            numpy.testing.assert_allclose(top_layer[k, : lengths[k]].numpy(), expected[k][i], rtol=0, atol=atol)


def test_uncompressed_matches_tf_reference(elmo_fixture):
    # allennlp's elmo_test checks `assert_array_almost_equal(..., decimal=6)`: |difference| < 1.5e-6.
    # (One of 608 values differs by 1.19e-6 on some runs: float32 matmul order depends on threads.)
    assert_matches_tf_reference(CompressedElmoBiLm(*elmo_fixture), atol=1.5e-6)


@pytest.mark.parametrize("target", ["input", "recurrent", "both"])
def test_full_rank_svd_matches_tf_reference(elmo_fixture, target: str):
    spec = CompressionSpec.from_dict({"method": "svd", "target": target, "rank": FULL_RANK})
    bilm = CompressedElmoBiLm(*elmo_fixture, compression=spec)
    assert any(isinstance(module, LowRankLinear) for module in bilm.modules())
    assert_matches_tf_reference(bilm, atol=1e-5)


def test_uncompressed_equals_allennlp_bilm_exactly(elmo_fixture):
    ours, theirs = CompressedElmoBiLm(*elmo_fixture), _ElmoBiLm(*elmo_fixture)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    sentences, _ = load_reference()
    character_ids = batch_to_ids([sentence.split() for sentence in sentences[0][:4]])
    with torch.no_grad():
        for ours_layer, theirs_layer in zip(
            ours(character_ids)["activations"], theirs(character_ids)["activations"]
        ):
            assert torch.equal(ours_layer, theirs_layer)


def test_full_rank_compressed_elmo_matches_allennlp_elmo(elmo_fixture):
    sentences, _ = load_reference()
    character_ids = batch_to_ids([sentence.split() for sentence in sentences[1][:5]])
    torch.manual_seed(0)
    theirs = Elmo(*elmo_fixture, num_output_representations=2, dropout=0.0)
    torch.manual_seed(0)
    ours = CompressedElmo(
        *elmo_fixture,
        num_output_representations=2,
        dropout=0.0,
        compression={"method": "svd", "target": "both", "rank": FULL_RANK},
    )
    with torch.no_grad():
        expected, actual = theirs(character_ids), ours(character_ids)
    assert torch.equal(expected["mask"], actual["mask"])
    for representation, reference in zip(actual["elmo_representations"], expected["elmo_representations"]):
        torch.testing.assert_close(representation, reference, rtol=0, atol=1e-5)
