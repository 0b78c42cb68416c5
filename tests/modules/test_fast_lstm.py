"""
The fast biLSTM forward (`FastElmoLstm`) against allennlp's own `ElmoLstm` / `LstmCellWithProjection`:
dense and compressed cells, random and fixture weights, ragged batches, both directions, stateful
and stateless; and int8 against float.
"""

import copy
from typing import List, Optional, Tuple

import pytest
import torch
from allennlp.modules.elmo import batch_to_ids
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import (
    CompressedElmoBiLm,
    FastElmoLstm,
    LowRankLinear,
    PrunedLinear,
    QuantizedLowRankLinear,
    load_lstm_weights,
)
from elmo_compress.modules.fast_lstm import linear_chain, run_cell
from elmo_compress.modules.quantize import quantized_linear_types
from elmo_compress.weights import ElmoWeights, compress_weights

from tests.modules.test_golden import assert_matches_tf_reference, load_reference

TOLERANCE = 1e-5
# int8 (per-tensor weight scale, activations quantized per call) against float on the same biLM:
# largest absolute difference of any biLM activation, in units of the largest activation.
INT8_RELATIVE_TOLERANCE = 0.05

COMPRESSIONS = [
    None,
    {"method": "svd", "target": "recurrent", "rank": 3},
    {"method": "svd", "target": "both", "rank": 5},
    {"method": "semi_nmf", "target": "both", "rank": 4},
    {"method": "prune", "target": "both", "rank": 3},
]

# (batch_size, timesteps, lengths): unsorted, with a fully padded row, then a smaller and a larger
# batch, so stateful runs shrink and grow the kept state as allennlp does.
RAGGED_BATCHES = [(4, 7, [7, 3, 5, 0]), (3, 6, [6, 2, 6]), (5, 4, [1, 4, 3, 4, 2])]


def _spec(block: Optional[dict]) -> Optional[CompressionSpec]:
    return None if block is None else CompressionSpec.from_dict(block)


def _allennlp_lstm(options_file: str, weight_file: str, compression: Optional[dict]) -> ElmoLstm:
    """allennlp's `ElmoLstm` with the (compressed) cells of a weights file."""
    weights = ElmoWeights.load(options_file, weight_file)
    if compression is not None:
        weights, _ = compress_weights(weights, _spec(compression))
    options = weights.options
    lstm = ElmoLstm(
        options.projection_dim,
        options.projection_dim,
        options.cell_dim,
        options.num_layers,
        memory_cell_clip_value=3.0,
        state_projection_clip_value=3.0,
    )
    load_lstm_weights(lstm, weights)
    with torch.no_grad():  # larger outputs than N(0, 1 / fan_in) weights give, so the clip at 3 is reached
        for cell in lstm.forward_layers + lstm.backward_layers:
            cell.state_projection.weight.mul_(4.0)
    return lstm


def _ragged_batches(input_size: int, seed: int = 0) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for batch_size, timesteps, lengths in RAGGED_BATCHES:
        mask = torch.arange(timesteps).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
        # Large inputs so that both clips (memory and projection, at 3) are active somewhere.
        inputs = 4.0 * torch.randn(batch_size, timesteps, input_size, generator=generator) * mask.unsqueeze(-1)
        batches.append((inputs, mask))
    return batches


def _assert_close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_stateful_fast_path_equals_elmo_lstm_on_ragged_batches(random_bilm, compression: Optional[dict]):
    theirs = _allennlp_lstm(*random_bilm, compression)
    ours = FastElmoLstm.from_elmo_lstm(copy.deepcopy(theirs))
    clipped = False
    with torch.no_grad():
        for inputs, mask in _ragged_batches(theirs.input_size):
            expected = theirs(inputs, mask)
            _assert_close(ours(inputs, mask), expected)
            for our_state, their_state in zip(ours._states, theirs._states):
                _assert_close(our_state, their_state)
            clipped = clipped or bool((expected[0].abs() == 3.0).any())
    assert clipped, "the test inputs should reach the projection clip"


@pytest.mark.parametrize("compression", COMPRESSIONS[:2])
def test_stateless_fast_path_starts_every_batch_from_zero(random_bilm, compression: Optional[dict]):
    theirs = _allennlp_lstm(*random_bilm, compression)
    ours = FastElmoLstm.from_elmo_lstm(copy.deepcopy(theirs), stateful=False)
    with torch.no_grad():
        for inputs, mask in _ragged_batches(theirs.input_size, seed=1):
            theirs.reset_states()
            _assert_close(ours(inputs, mask), theirs(inputs, mask))
            assert ours._states is None


@pytest.mark.parametrize("go_forward", [True, False])
@pytest.mark.parametrize("compression", COMPRESSIONS[:3])
def test_one_cell_each_direction_with_initial_state(random_bilm, compression: Optional[dict], go_forward: bool):
    lstm = _allennlp_lstm(*random_bilm, compression)
    cell = lstm.forward_layers[1] if go_forward else lstm.backward_layers[1]
    lengths = [6, 6, 4, 2, 1]  # sorted longest first, as ElmoLstm hands them to its cells
    generator = torch.Generator().manual_seed(2)
    mask = torch.arange(6).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    inputs = 3.0 * torch.randn(5, 6, cell.input_size, generator=generator) * mask.unsqueeze(-1)
    state = torch.randn(1, 5, cell.hidden_size, generator=generator)
    memory = torch.randn(1, 5, cell.cell_size, generator=generator)
    active_rows = mask.sum(0).tolist()
    with torch.no_grad():
        expected, (expected_state, expected_memory) = cell(inputs, lengths, (state, memory))
        for use_torchscript in (True, False):
            actual, (actual_state, actual_memory) = run_cell(
                cell, inputs, active_rows, (state[0], memory[0]), use_torchscript
            )
            _assert_close(actual, expected)
            _assert_close(actual_state, expected_state)
            _assert_close(actual_memory, expected_memory)


def test_torchscript_and_python_loops_agree(random_bilm):
    lstm = _allennlp_lstm(*random_bilm, COMPRESSIONS[2])
    scripted = FastElmoLstm.from_elmo_lstm(lstm, stateful=False)
    python = FastElmoLstm.from_elmo_lstm(lstm, stateful=False, use_torchscript=False)
    inputs, mask = _ragged_batches(lstm.input_size)[0]
    with torch.no_grad():
        _assert_close(scripted(inputs, mask), python(inputs, mask))


def test_gradients_match_allennlp(random_bilm):
    theirs = _allennlp_lstm(*random_bilm, COMPRESSIONS[2])
    for parameter in theirs.parameters():
        parameter.requires_grad = True
    ours = FastElmoLstm.from_elmo_lstm(copy.deepcopy(theirs), stateful=False)
    inputs, mask = _ragged_batches(theirs.input_size, seed=3)[1]
    gradients = []
    for lstm in (theirs, ours):
        lstm.reset_states()
        lstm.zero_grad()
        leaf = inputs.clone().requires_grad_(True)
        lstm(leaf, mask).pow(2).sum().backward()
        gradients.append([leaf.grad] + [parameter.grad for parameter in lstm.parameters()])
    for their_gradient, our_gradient in zip(*gradients):
        torch.testing.assert_close(our_gradient, their_gradient, rtol=1e-4, atol=TOLERANCE)


def _fixture_outputs(bilm: CompressedElmoBiLm, batches: List[List[List[str]]]) -> List[torch.Tensor]:
    bilm._elmo_lstm.reset_states()
    with torch.no_grad():
        return [torch.stack(bilm(batch_to_ids(batch))["activations"]) for batch in batches]


@pytest.mark.parametrize(
    "compression,stateful", [(compression, True) for compression in COMPRESSIONS] + [(COMPRESSIONS[2], False)]
)
def test_fast_path_equals_allennlp_loop_on_fixture_weights(
    elmo_fixture, compression: Optional[dict], stateful: bool
):
    sentences, _ = load_reference()
    # Ragged batches of 4, 3 and 5 sentences of different lengths, run one after the other.
    batches = [sentences[0][:4], sentences[1][3:6], sentences[2][:5]]
    batches = [[sentence.split() for sentence in batch] for batch in batches]
    bilm = CompressedElmoBiLm(*elmo_fixture, compression=_spec(compression), stateful=stateful, fast_path=True)
    fast = _fixture_outputs(bilm, batches)
    bilm._elmo_lstm.use_fast_path = False
    for actual, expected in zip(fast, _fixture_outputs(bilm, batches)):
        _assert_close(actual, expected)


def test_fast_path_matches_tf_reference(elmo_fixture):
    assert_matches_tf_reference(CompressedElmoBiLm(*elmo_fixture, fast_path=True), atol=TOLERANCE)


def test_linear_chain_rejects_unknown_layers():
    with pytest.raises(TypeError, match="Bilinear"):
        linear_chain(torch.nn.Bilinear(2, 2, 2))


def _max_relative_difference(actual: List[torch.Tensor], expected: List[torch.Tensor]) -> float:
    largest = max(float(tensor.abs().max()) for tensor in expected)
    return max(float((a - e).abs().max()) for a, e in zip(actual, expected)) / largest


@pytest.mark.parametrize("compression", [None, COMPRESSIONS[2], COMPRESSIONS[4]])
def test_int8_stays_close_to_float(elmo_fixture, compression: Optional[dict]):
    sentences, _ = load_reference()
    batches = [[sentence.split() for sentence in sentences[0][:5]]]
    float_bilm = CompressedElmoBiLm(*elmo_fixture, compression=_spec(compression), fast_path=True)
    int8_bilm = CompressedElmoBiLm(*elmo_fixture, compression=_spec(compression), fast_path=True, int8=True)
    expected = _fixture_outputs(float_bilm, batches)
    int8_fast = _fixture_outputs(int8_bilm, batches)
    assert _max_relative_difference(int8_fast, expected) < INT8_RELATIVE_TOLERANCE
    int8_bilm._elmo_lstm.use_fast_path = False  # allennlp's loop over the same int8 layers
    assert _max_relative_difference(_fixture_outputs(int8_bilm, batches), expected) < INT8_RELATIVE_TOLERANCE
    assert not any(torch.equal(a, e) for a, e in zip(int8_fast, expected))


def test_int8_layer_types(random_bilm):
    spec = _spec({"method": "svd", "target": "recurrent", "rank": 3})
    bilm = CompressedElmoBiLm(*random_bilm, compression=spec, int8=True)
    cell = bilm._elmo_lstm.forward_layer_0
    assert isinstance(cell.state_linearity, QuantizedLowRankLinear)
    assert isinstance(cell.input_linearity, quantized_linear_types())
    assert isinstance(cell.state_projection, quantized_linear_types())
    assert isinstance(bilm._token_embedder._projection, quantized_linear_types())
    assert not any(isinstance(module, (LowRankLinear, PrunedLinear)) for module in bilm.modules())


def test_int8_refuses_requires_grad(random_bilm):
    with pytest.raises(ValueError, match="int8"):
        CompressedElmoBiLm(*random_bilm, requires_grad=True, int8=True)
