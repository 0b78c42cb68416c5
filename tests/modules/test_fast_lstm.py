"""
The fast biLSTM forward (`FastElmoLstm`) against allennlp's own `ElmoLstm` / `LstmCellWithProjection`.

The two compute the same algebra and differ only in the order of float additions, so their equality is
checked in float64, where reordering changes results by a few units of 2^-53 of the summed magnitudes:
`ALGEBRAIC` = 1e-10 leaves a margin of about 10^4 over that for these sizes (a few dozen terms of size
< 100 per sum, a dozen timesteps), and any algorithmic slip (a wrong gate, a missed clip, a state row
out of place) shows up at 1e-3 or more. float32 results are compared with a stated bound only where
float32 is the point (int8 below; the TensorFlow reference in test_tf_reference.py).
"""

import copy
from typing import List, Optional, Tuple

import pytest
import torch
from allennlp.modules.elmo import batch_to_ids
from allennlp.modules.elmo_lstm import ElmoLstm

from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import (
    CompressedElmoBiLm,
    FastElmoLstm,
    Int8Linear,
    LowRankLinear,
    PrunedLinear,
    QuantizedLowRankLinear,
    RuntimeOptions,
    load_lstm_weights,
)
from elmo_compress.modules.fast_lstm import linear_chain, run_cell
from elmo_compress.weights import ElmoWeights, compress_weights

ALGEBRAIC = 1e-10

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
SENTENCES = [
    "The cat sat on the mat .".split(),
    "A much longer sentence about the dogs that barked all night long .".split(),
    "Hi".split(),
    "Compression of ELMo keeps the vectors close .".split(),
    "Short one .".split(),
]


def _spec(block: Optional[dict]) -> Optional[CompressionSpec]:
    return None if block is None else CompressionSpec.from_dict(block)


def _allennlp_lstm(options_file: str, weight_file: str, compression: Optional[dict]) -> ElmoLstm:
    """allennlp's `ElmoLstm` with the (compressed) cells of a weights file, in float64."""
    weights = ElmoWeights.load(options_file, weight_file)
    if compression is not None:
        weights, _ = compress_weights(weights, _spec(compression))
    lstm = ElmoLstm(**weights.options.elmo_lstm_arguments())
    load_lstm_weights(lstm, weights)
    with torch.no_grad():  # larger outputs than N(0, 1 / fan_in) weights give, so the clip at 3 is reached
        for cell in lstm.forward_layers + lstm.backward_layers:
            cell.state_projection.weight.mul_(4.0)
    return lstm.double()


def _ragged_batches(input_size: int, seed: int = 0) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for batch_size, timesteps, lengths in RAGGED_BATCHES:
        mask = torch.arange(timesteps).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
        # Large inputs so that both clips (memory and projection, at 3) are active somewhere.
        inputs = 4.0 * torch.randn(batch_size, timesteps, input_size, generator=generator, dtype=torch.float64)
        batches.append((inputs * mask.unsqueeze(-1), mask))
    return batches


def _assert_equal_algebra(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.dtype == expected.dtype == torch.float64
    torch.testing.assert_close(actual, expected, rtol=0, atol=ALGEBRAIC)


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_stateful_fast_path_equals_elmo_lstm_on_ragged_batches(random_bilm, compression: Optional[dict]):
    theirs = _allennlp_lstm(*random_bilm, compression)
    ours = FastElmoLstm.from_elmo_lstm(copy.deepcopy(theirs))
    clipped = False
    with torch.no_grad():
        for inputs, mask in _ragged_batches(theirs.input_size):
            expected = theirs(inputs, mask)
            _assert_equal_algebra(ours(inputs, mask), expected)
            for our_state, their_state in zip(ours._states, theirs._states):
                _assert_equal_algebra(our_state, their_state)
            clipped = clipped or bool((expected[0].abs() == 3.0).any())
    assert clipped, "the test inputs should reach the projection clip"


@pytest.mark.parametrize("compression", COMPRESSIONS[:2])
def test_stateless_fast_path_starts_every_batch_from_zero(random_bilm, compression: Optional[dict]):
    theirs = _allennlp_lstm(*random_bilm, compression)
    ours = FastElmoLstm.from_elmo_lstm(copy.deepcopy(theirs), stateful=False)
    with torch.no_grad():
        for inputs, mask in _ragged_batches(theirs.input_size, seed=1):
            theirs.reset_states()
            _assert_equal_algebra(ours(inputs, mask), theirs(inputs, mask))
            assert ours._states is None


@pytest.mark.parametrize("go_forward", [True, False])
@pytest.mark.parametrize("compression", COMPRESSIONS[:3])
def test_one_cell_each_direction_with_initial_state(random_bilm, compression: Optional[dict], go_forward: bool):
    lstm = _allennlp_lstm(*random_bilm, compression)
    cell = lstm.forward_layers[1] if go_forward else lstm.backward_layers[1]
    lengths = [6, 6, 4, 2, 1]  # sorted longest first, as ElmoLstm hands them to its cells
    generator = torch.Generator().manual_seed(2)
    mask = torch.arange(6).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    inputs = 3.0 * torch.randn(5, 6, cell.input_size, generator=generator, dtype=torch.float64) * mask.unsqueeze(-1)
    state = torch.randn(1, 5, cell.hidden_size, generator=generator, dtype=torch.float64)
    memory = torch.randn(1, 5, cell.cell_size, generator=generator, dtype=torch.float64)
    active_rows = mask.sum(0).tolist()
    with torch.no_grad():
        expected, (expected_state, expected_memory) = cell(inputs, lengths, (state, memory))
        for use_torchscript in (True, False):
            actual, (actual_state, actual_memory) = run_cell(cell, inputs, active_rows, (state[0], memory[0]), use_torchscript)
            _assert_equal_algebra(actual, expected)
            _assert_equal_algebra(actual_state, expected_state)
            _assert_equal_algebra(actual_memory, expected_memory)


def test_torchscript_and_python_loops_agree(random_bilm):
    lstm = _allennlp_lstm(*random_bilm, COMPRESSIONS[2])
    scripted = FastElmoLstm.from_elmo_lstm(lstm, stateful=False)
    python = FastElmoLstm.from_elmo_lstm(lstm, stateful=False, use_torchscript=False)
    inputs, mask = _ragged_batches(lstm.input_size)[0]
    with torch.no_grad():
        _assert_equal_algebra(scripted(inputs, mask), python(inputs, mask))


@pytest.mark.parametrize("compression", [COMPRESSIONS[0], COMPRESSIONS[2], COMPRESSIONS[4]])
def test_gradients_match_allennlp(random_bilm, compression: Optional[dict]):
    theirs = _allennlp_lstm(*random_bilm, compression)
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
    assert len(gradients[0]) == len(gradients[1]) > 1
    for their_gradient, our_gradient in zip(*gradients):
        # Gradients sum up to (timesteps x batch) more terms than the forward pass; relative to their size.
        scale = max(1.0, float(their_gradient.abs().max()))
        torch.testing.assert_close(our_gradient / scale, their_gradient / scale, rtol=0, atol=ALGEBRAIC)


def _bilm_outputs(bilm: CompressedElmoBiLm, batches: List[List[List[str]]]) -> List[torch.Tensor]:
    bilm._elmo_lstm.reset_states()
    with torch.no_grad():
        return [torch.stack(bilm(batch_to_ids(batch))["activations"]) for batch in batches]


@pytest.mark.parametrize("compression,stateful", [(c, True) for c in COMPRESSIONS] + [(COMPRESSIONS[2], False)])
def test_fast_path_equals_allennlp_loop_on_the_demo_bilm(demo_bilm, compression: Optional[dict], stateful: bool):
    # The whole biLM (character CNN, both LSTM layers) on real text, in ragged batches run one after the other.
    batches = [SENTENCES[:4], SENTENCES[1:4], SENTENCES]
    bilm = CompressedElmoBiLm(*demo_bilm, compression=_spec(compression), runtime=RuntimeOptions(stateful=stateful)).double()
    fast = _bilm_outputs(bilm, batches)
    bilm._elmo_lstm.use_fast_path = False
    for actual, expected in zip(fast, _bilm_outputs(bilm, batches)):
        _assert_equal_algebra(actual, expected)


def test_linear_chain_rejects_unknown_layers():
    with pytest.raises(ElmoCompressError, match="Bilinear"):
        linear_chain(torch.nn.Bilinear(2, 2, 2))


def _max_relative_difference(actual: List[torch.Tensor], expected: List[torch.Tensor]) -> float:
    largest = max(float(tensor.abs().max()) for tensor in expected)
    return max(float((a - e).abs().max()) for a, e in zip(actual, expected)) / largest


# int8 bound, derived: dynamic quantization stores each weight to within half a step of max|W| / 127 and
# quantizes each input vector with 127 levels over its range (reduce_range), so one quantized product is
# off by at most 1/127 + 1/127 of its scale (first order). On the way to the top layer an activation
# passes through at most 8 quantized products (highway, projection, then W_i, W_h and the projection of
# each of 2 LSTM layers), and the nonlinearities in between (sigmoid, tanh, relu, clipping) are
# 1-Lipschitz, so the deviation relative to the largest activation is at most 1 - (1 - 2 / 127) ** 8.
INT8_BOUND = 1 - (1 - 2 / 127) ** 8


@pytest.mark.parametrize("compression", [None, COMPRESSIONS[2], COMPRESSIONS[4]])
def test_int8_stays_close_to_float(demo_bilm, compression: Optional[dict]):
    batches = [SENTENCES]
    float_bilm = CompressedElmoBiLm(*demo_bilm, compression=_spec(compression))
    int8_bilm = CompressedElmoBiLm(*demo_bilm, compression=_spec(compression), runtime=RuntimeOptions(int8=True))
    expected = _bilm_outputs(float_bilm, batches)
    int8_fast = _bilm_outputs(int8_bilm, batches)
    assert _max_relative_difference(int8_fast, expected) < INT8_BOUND
    int8_bilm._elmo_lstm.use_fast_path = False  # allennlp's loop over the same int8 layers
    assert _max_relative_difference(_bilm_outputs(int8_bilm, batches), expected) < INT8_BOUND
    assert not any(torch.equal(a, e) for a, e in zip(int8_fast, expected))


def test_int8_layer_types(random_bilm):
    spec = _spec({"method": "svd", "target": "recurrent", "rank": 3})
    bilm = CompressedElmoBiLm(*random_bilm, compression=spec, runtime=RuntimeOptions(int8=True))
    cell = bilm._elmo_lstm.forward_layer_0
    assert isinstance(cell.state_linearity, QuantizedLowRankLinear)
    assert isinstance(cell.input_linearity, Int8Linear)
    assert isinstance(cell.state_projection, Int8Linear)
    assert isinstance(bilm._token_embedder._projection, torch.nn.quantized.dynamic.Linear)
    assert not any(isinstance(module, (LowRankLinear, PrunedLinear)) for module in bilm.modules())


def test_int8_refuses_requires_grad(random_bilm):
    with pytest.raises(ElmoCompressError, match="int8"):
        CompressedElmoBiLm(*random_bilm, requires_grad=True, runtime=RuntimeOptions(int8=True))
