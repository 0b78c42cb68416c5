"""
A fast forward pass for allennlp's `ElmoLstm`, with the same weights and the same outputs.

allennlp's `LstmCellWithProjection` loops over timesteps in Python and, at every step, applies the
input matrix W_i (which does not depend on the state) and clones the whole state. Here, per
layer-direction:

1. the input matrix is applied to all timesteps in one matrix product (a `LowRankLinear` as two
   products, `(x @ right^T) @ left^T`);
2. only the state-dependent part stays in the per-step loop: W_h (one or two products), the gates,
   clipping and the projection. The loop is compiled with TorchScript (run without the profiling
   executor's optimisation passes, see `run_cell`) and makes no per-step copy of the whole state.

Sorting by length, dropping fully padded rows and the stateful bookkeeping are allennlp's own
(`_EncoderBase`), so a `FastElmoLstm` carries state across batches exactly as `ElmoLstm` does.
"""

import functools
from typing import Callable, List, Optional, Tuple

import torch
from allennlp.modules.elmo_lstm import ElmoLstm
from allennlp.modules.encoder_base import _EncoderBase
from allennlp.modules.lstm_cell_with_projection import LstmCellWithProjection
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from elmo_compress.modules.forms import as_linear_form
from elmo_compress.modules.linear_form import LinearChain

def linear_chain(module: torch.nn.Module) -> LinearChain:
    """The weights of an LSTM-matrix layer (any stored form, float or int8), in the form the loop takes."""
    return as_linear_form(module).loop_chain()


def apply_linear_chain(
    inputs: torch.Tensor,
    chain: LinearChain,
) -> torch.Tensor:
    """`inputs` through the chain's products, as the module it came from would compute them."""
    weights, bias, packed = chain
    if len(packed) > 0:
        for params in packed:
            # reduce_range=True, as torch's dynamic quantized Linear calls it
            inputs = torch.ops.quantized.linear_dynamic(inputs, params, True)
        return inputs
    for weight in weights[:-1]:
        inputs = torch.nn.functional.linear(inputs, weight)
    return torch.nn.functional.linear(inputs, weights[-1], bias)


def gated_memory(gates: torch.Tensor, memory: torch.Tensor, memory_clip: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    The gate arithmetic of one `LstmCellWithProjection` step, between the two matrices and the projection.

    # Parameters

    gates : `torch.Tensor`
        `x W_i^T + h W_h^T + b`, shape (rows, 4 * cell_size), gate order i, f, g, o.
    memory : `torch.Tensor`
        The previous memory, shape (rows, cell_size).
    memory_clip : `float`
        0 means no clipping (allennlp tests the value for truth).

    # Returns

    The new memory and the output before the projection, both of shape (rows, cell_size).
    """
    input_gate, forget_gate, memory_init, output_gate = gates.chunk(4, 1)
    memory = torch.sigmoid(input_gate) * torch.tanh(memory_init) + torch.sigmoid(forget_gate) * memory
    if memory_clip != 0.0:
        memory = torch.clamp(memory, -memory_clip, memory_clip)
    return memory, torch.sigmoid(output_gate) * torch.tanh(memory)


def clip_state(state: torch.Tensor, state_clip: float) -> torch.Tensor:
    """The projected state clipped to [-state_clip, state_clip]; 0 means no clipping."""
    if state_clip != 0.0:
        state = torch.clamp(state, -state_clip, state_clip)
    return state


def lstm_recurrence(
    projected_input: torch.Tensor,
    active_rows: List[int],
    initial_state: torch.Tensor,
    initial_memory: torch.Tensor,
    go_forward: bool,
    recurrent: LinearChain,
    projection: LinearChain,
    memory_clip: float,
    state_clip: float,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    The state-dependent part of `LstmCellWithProjection.forward` over a batch sorted by length.

    # Parameters

    projected_input : `torch.Tensor`
        `x @ W_i^T` for every timestep, shape (batch_size, timesteps, 4 * cell_size).
    active_rows : `List[int]`
        For each timestep, how many sequences are longer than it (non-increasing: the batch is
        sorted longest first, as a `PackedSequence`'s `batch_sizes`).
    initial_state, initial_memory : `torch.Tensor`
        Shapes (batch_size, hidden_size) and (batch_size, cell_size).
    go_forward : `bool`
        Direction. Going backwards, a sequence starts at its own last token, so rows join the
        computation as the timestep falls below their length.
    recurrent, projection : `LinearChain`
        W_h (with the LSTM bias) and the state projection.
    memory_clip, state_clip : `float`
        Clip values; 0 means no clipping (allennlp tests the values for truth).

    # Returns

    outputs : `torch.Tensor`, shape (batch_size, timesteps, hidden_size), zero past each length.
    final_state, final_memory : `torch.Tensor`, shapes (batch_size, hidden_size), (batch_size, cell_size)
    """
    batch_size = initial_state.size(0)
    timesteps = projected_input.size(1)
    # Going forward, rows leave (shortest last) and their final state is set aside; going backward,
    # rows join with their initial state.
    rows = batch_size if go_forward else active_rows[timesteps - 1]
    state, memory = initial_state[:rows], initial_memory[:rows]
    # One view per timestep, taken once: indexing `projected_input` at every step would make its
    # backward pass build a gradient of the whole (batch, timesteps, 4 * cell) tensor per step.
    projected_steps = projected_input.unbind(1)
    finished_states: List[torch.Tensor] = []
    finished_memories: List[torch.Tensor] = []
    outputs: List[torch.Tensor] = []
    for step in range(timesteps):
        index = step if go_forward else timesteps - 1 - step
        new_rows = active_rows[index]
        if new_rows < rows:
            finished_states.append(state[new_rows:])
            finished_memories.append(memory[new_rows:])
            state, memory = state[:new_rows], memory[:new_rows]
        elif new_rows > rows:
            state = torch.cat([state, initial_state[rows:new_rows]], 0)
            memory = torch.cat([memory, initial_memory[rows:new_rows]], 0)
        rows = new_rows

        # shape (rows, 4 * cell_size), gate order i, f, g, o as in LstmCellWithProjection
        gates = projected_steps[index][:rows] + apply_linear_chain(state, recurrent)
        memory, output = gated_memory(gates, memory, memory_clip)
        # shape (rows, hidden_size)
        state = clip_state(apply_linear_chain(output, projection), state_clip)
        # shape (batch_size, hidden_size): zeros for the rows not computed at this timestep
        outputs.append(torch.nn.functional.pad(state, [0, 0, 0, batch_size - rows]))

    if not go_forward:
        outputs.reverse()
    # Rows that left earlier sit further down the batch.
    finished_states.reverse()
    finished_memories.reverse()
    final_state = torch.cat([state] + finished_states, 0)
    final_memory = torch.cat([memory] + finished_memories, 0)
    # shape (batch_size, timesteps, hidden_size)
    return torch.stack(outputs, 1), final_state, final_memory


@functools.lru_cache(maxsize=None)
def scripted_lstm_recurrence() -> Callable:
    """`lstm_recurrence` compiled by TorchScript (once, on first use rather than at import)."""
    return torch.jit.script(lstm_recurrence)


def run_cell(
    cell: LstmCellWithProjection,
    inputs: torch.Tensor,
    active_rows: List[int],
    initial_state: Tuple[torch.Tensor, torch.Tensor],
    use_torchscript: bool = True,
) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
    """
    `cell(inputs, lengths, initial_state)` with W_i applied to all timesteps at once.

    # Parameters

    cell : `LstmCellWithProjection`
        One layer-direction of an `ElmoLstm` (dense, low-rank, pruned or int8 linear layers).
    inputs : `torch.Tensor`
        Shape (batch_size, timesteps, input_size), sorted by length, longest first.
    active_rows : `List[int]`
        Per timestep, the number of sequences longer than it.
    initial_state : `Tuple[torch.Tensor, torch.Tensor]`
        State (batch_size, hidden_size) and memory (batch_size, cell_size).
    use_torchscript : `bool`, optional (default = `True`)
        Run the per-step loop compiled by TorchScript (else as plain Python).

    # Returns

    The outputs (batch_size, timesteps, hidden_size) and the final (state, memory), each with a
    leading dimension of 1, as `LstmCellWithProjection.forward` returns them.
    """
    # shape (batch_size, timesteps, 4 * cell_size)
    projected_input = cell.input_linearity(inputs)
    arguments = (
        projected_input,
        active_rows,
        initial_state[0],
        initial_state[1],
        cell.go_forward,
        linear_chain(cell.state_linearity),
        linear_chain(cell.state_projection),
        float(cell.memory_cell_clip_value or 0.0),
        float(cell.state_projection_clip_value or 0.0),
    )
    if use_torchscript:
        # The profiling executor's optimisation passes cost seconds on the first calls (and again on
        # new shapes) and gained nothing measurable here: run the compiled graph as it is.
        with torch.jit.optimized_execution(False):
            outputs, state, memory = scripted_lstm_recurrence()(*arguments)
    else:
        outputs, state, memory = lstm_recurrence(*arguments)
    return outputs, (state.unsqueeze(0), memory.unsqueeze(0))


class FastElmoLstm(ElmoLstm):
    """
    allennlp's `ElmoLstm` (same modules, same state-dict keys, same outputs) with a fast
    `_lstm_forward`: per layer-direction, the input matrix is applied to all timesteps in one
    product, and the per-timestep loop is TorchScript code that applies only the recurrent matrix,
    the gates, clipping and the projection (see `lstm_recurrence`). Dense, low-rank, pruned and
    int8 linear layers are all supported.

    Sorting, removal of empty rows and the state kept between calls are `ElmoLstm`'s own. With
    `stateful=False` every batch starts from zero states and nothing is kept, which is the natural
    choice for inference on independent sentences (allennlp's `ElmoLstm` is always stateful).

    # Parameters

    input_size : `int`
        The dimension of the inputs to the LSTM.
    hidden_size : `int`
        The dimension of the outputs of the LSTM (the projection).
    cell_size : `int`
        The dimension of the memory cell.
    num_layers : `int`
        The number of bidirectional layers.
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradients of the LSTM parameters.
    recurrent_dropout_probability : `float`, optional (default = `0.0`)
        Recurrent dropout, as in `ElmoLstm`. The fast loop has no dropout: while training with a
        probability above 0, allennlp's loop runs instead.
    memory_cell_clip_value : `float`, optional (default = `None`)
        The magnitude with which to clip the memory cell.
    state_projection_clip_value : `float`, optional (default = `None`)
        The magnitude with which to clip the hidden state after projecting it.
    stateful : `bool`, optional (default = `True`)
        Carry the final states of one batch into the next, as `ElmoLstm` does. False: start each
        batch from zeros.
    use_fast_path : `bool`, optional (default = `True`)
        False runs allennlp's own per-timestep loop (for comparison).
    use_torchscript : `bool`, optional (default = `True`)
        Run the per-step loop as TorchScript; False runs the same loop as plain Python.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        cell_size: int,
        num_layers: int,
        requires_grad: bool = False,
        recurrent_dropout_probability: float = 0.0,
        memory_cell_clip_value: Optional[float] = None,
        state_projection_clip_value: Optional[float] = None,
        stateful: bool = True,
        use_fast_path: bool = True,
        use_torchscript: bool = True,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            cell_size,
            num_layers,
            requires_grad,
            recurrent_dropout_probability,
            memory_cell_clip_value,
            state_projection_clip_value,
        )
        self.stateful = stateful
        self.use_fast_path = use_fast_path
        self.use_torchscript = use_torchscript

    @classmethod
    def from_elmo_lstm(
        cls, elmo_lstm: ElmoLstm, stateful: bool = True, use_fast_path: bool = True, use_torchscript: bool = True
    ) -> "FastElmoLstm":
        """
        A `FastElmoLstm` that shares `elmo_lstm`'s cells (whatever linear layers they hold) and its
        current state. `ElmoLstm.__init__` is not called: it would build and initialise a full set
        of dense cells only to throw them away.
        """
        fast = cls.__new__(cls)
        _EncoderBase.__init__(fast, stateful=stateful)
        for name in ("input_size", "hidden_size", "num_layers", "cell_size", "requires_grad"):
            setattr(fast, name, getattr(elmo_lstm, name))
        fast.forward_layers, fast.backward_layers = list(elmo_lstm.forward_layers), list(elmo_lstm.backward_layers)
        for index, (forward_layer, backward_layer) in enumerate(zip(fast.forward_layers, fast.backward_layers)):
            fast.add_module(f"forward_layer_{index}", forward_layer)
            fast.add_module(f"backward_layer_{index}", backward_layer)
        fast._states = elmo_lstm._states if stateful else None
        fast.use_fast_path = use_fast_path
        fast.use_torchscript = use_torchscript
        return fast

    def _update_states(
        self, final_states: Tuple[torch.Tensor, ...], restoration_indices: torch.LongTensor
    ) -> None:
        if self.stateful:
            super()._update_states(final_states, restoration_indices)

    def _needs_allennlp_loop(self) -> bool:
        if not self.use_fast_path:
            return True
        dropout = any(layer.recurrent_dropout_probability > 0.0 for layer in self.forward_layers)
        return dropout and self.training

    def _lstm_forward(
        self,
        inputs: PackedSequence,
        initial_state: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
    ) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """
        Same contract as `ElmoLstm._lstm_forward`.

        # Parameters

        inputs : `PackedSequence`
            A batch-first `PackedSequence` (sorted longest first) to run the stacked LSTM over.
        initial_state : `Tuple[torch.Tensor, torch.Tensor]`, optional (default = `None`)
            (state, memory) of shapes (num_layers, batch_size, 2 * hidden_size) and
            (num_layers, batch_size, 2 * cell_size); zeros when `None`.

        # Returns

        The outputs, shape (num_layers, batch_size, timesteps, hidden_size) with forward and
        backward concatenated in the last dimension (so 2 * hidden_size), and the final
        (state, memory) in the shapes of `initial_state`.
        """
        if self._needs_allennlp_loop():
            return super()._lstm_forward(inputs, initial_state)
        active_rows: List[int] = inputs.batch_sizes.tolist()
        # shape (batch_size, timesteps, input_size)
        sequence, _ = pad_packed_sequence(inputs, batch_first=True)
        if initial_state is None:
            batch_size = sequence.size(0)
            initial_state = (
                sequence.new_zeros(self.num_layers, batch_size, 2 * self.hidden_size),
                sequence.new_zeros(self.num_layers, batch_size, 2 * self.cell_size),
            )
        forward_sequence = backward_sequence = sequence
        sequence_outputs, final_states, final_memories = [], [], []
        for layer_index in range(self.num_layers):
            # shapes (batch_size, hidden_size) and (batch_size, cell_size), per direction
            forward_state, backward_state = initial_state[0][layer_index].split(self.hidden_size, -1)
            forward_memory, backward_memory = initial_state[1][layer_index].split(self.cell_size, -1)
            forward_output, (forward_state, forward_memory) = run_cell(
                getattr(self, f"forward_layer_{layer_index}"),
                forward_sequence,
                active_rows,
                (forward_state, forward_memory),
                self.use_torchscript,
            )
            backward_output, (backward_state, backward_memory) = run_cell(
                getattr(self, f"backward_layer_{layer_index}"),
                backward_sequence,
                active_rows,
                (backward_state, backward_memory),
                self.use_torchscript,
            )
            if layer_index != 0:  # skip connections
                forward_output = forward_output + forward_sequence
                backward_output = backward_output + backward_sequence
            forward_sequence, backward_sequence = forward_output, backward_output
            sequence_outputs.append(torch.cat([forward_output, backward_output], -1))
            final_states.append(torch.cat([forward_state, backward_state], -1))
            final_memories.append(torch.cat([forward_memory, backward_memory], -1))
        # shapes (num_layers, batch_size, timesteps, 2 * hidden_size), (num_layers, batch_size, 2 * hidden_size)
        # and (num_layers, batch_size, 2 * cell_size)
        return torch.stack(sequence_outputs), (torch.cat(final_states, 0), torch.cat(final_memories, 0))
