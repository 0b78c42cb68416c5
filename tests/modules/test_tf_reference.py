"""
Our biLM against the TensorFlow reference outputs of allennlp's toy biLM (../shared/fixtures/elmo), the
way allennlp's own `elmo_test.test_elmo_bilm` checks them: sentences fed in batches of three, in the
reference's order, statefully, and `assert_array_almost_equal(decimal=6)` (|difference| < 1.5e-6), which
is allennlp's criterion for these float32 TensorFlow outputs (values up to about 16, where one float32
step is 1.9e-6: the check allows about one step of the largest values). The only tests that read
../shared; without it they skip with the reason.
"""

import json
from typing import List, Tuple

import h5py
import numpy
import pytest
import torch
from allennlp.modules.elmo import batch_to_ids
from allennlp.nn.util import remove_sentence_boundaries

from elmo_compress.modules import CompressedElmoBiLm, RuntimeOptions

from tests.helpers import shared_fixture

pytestmark = pytest.mark.needs_shared


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


def assert_matches_tf_reference(bilm: torch.nn.Module) -> None:
    sentences, expected = load_reference()
    for i, batch in enumerate(zip(*sentences)):  # batch i: sentence i of each file, as the TF run did
        with torch.no_grad():
            output = bilm(batch_to_ids([sentence.split() for sentence in batch]))
        top_layer, mask = remove_sentence_boundaries(output["activations"][2], output["mask"])
        lengths = mask.sum(dim=1).tolist()
        assert lengths == [len(sentence.split()) for sentence in batch]
        for k in range(3):
            numpy.testing.assert_array_almost_equal(top_layer[k, : lengths[k]].numpy(), expected[k][i], decimal=6)


@pytest.mark.parametrize("fast_path", [False, True], ids=["allennlp_loop", "fast_path"])
def test_matches_tf_reference(tf_reference_bilm, fast_path: bool):
    assert_matches_tf_reference(CompressedElmoBiLm(*tf_reference_bilm, runtime=RuntimeOptions(fast_path=fast_path)))
