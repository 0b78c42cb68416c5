"""
The one place that knows how an official ELMo `weights.hdf5` (written by bilm-tf) is laid out and
how allennlp 2.10.1 turns it into PyTorch tensors (`allennlp.modules.elmo_lstm.ElmoLstm.load_weights`).
Everything else in `elmo_compress` refers to these names and functions.

LSTM cells (`d` = direction, 0 forward and 1 backward; `l` = layer):

    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0    (input + hidden, 4 * cell)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/B      (4 * cell,)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_P_0  (cell, hidden)

Conventions of the conversion, applied in `tf_cell_to_torch` and undone in `torch_cell_to_tf`:

1. TensorFlow multiplies `x @ W`, PyTorch `W @ x`: `W_0` and `W_P_0` are transposed.
2. `W_0` stacks the input matrix (first `input_size` rows) on the recurrent one.
3. Gate blocks are ordered input, memory (j), forget, output in TensorFlow and input, forget,
   memory, output in PyTorch: blocks 1 and 2 are swapped, in both matrices and in the bias.
4. TensorFlow's `LSTMCell` adds `forget_bias = 1.0` at run time instead of storing it, so 1 is added
   to the (TensorFlow) forget slice of `B`, in float32, before the swap.
5. The only LSTM bias is `state_linearity.bias`; `input_linearity` and `state_projection` have none.
"""

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy
import torch

from elmo_compress.constants import DIRECTIONS, MATRIX_TARGETS


# allennlp attribute of `LstmCellWithProjection` for each target.
TARGET_ATTRIBUTES = {"input": "input_linearity", "recurrent": "state_linearity"}


def cell_group(layer: int, direction: int) -> str:
    """hdf5 group of one LSTM cell."""
    return f"RNN_{direction}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"


def cell_module_name(layer: int, direction: int) -> str:
    """Attribute name of the cell inside allennlp's `ElmoLstm`."""
    return f"{DIRECTIONS[direction]}_layer_{layer}"


def matrix_name(layer: int, direction: int, target: str) -> str:
    """Human-readable name of one compressible matrix, used in reports and errors."""
    return f"layer {layer} {DIRECTIONS[direction]} {target}"


@dataclass
class LstmCellWeights:
    """
    One `LstmCellWithProjection`'s weights in allennlp's (PyTorch) convention.

    # Parameters

    input_weight : `torch.Tensor`
        `input_linearity.weight`, shape (4 * cell, input_size), gate order i, f, g, o.
    recurrent_weight : `torch.Tensor`
        `state_linearity.weight`, shape (4 * cell, hidden_size), gate order i, f, g, o.
    bias : `torch.Tensor`
        `state_linearity.bias`, shape (4 * cell,), forget slice including TensorFlow's +1.
    projection : `torch.Tensor`
        `state_projection.weight`, shape (hidden_size, cell).
    """

    input_weight: torch.Tensor
    recurrent_weight: torch.Tensor
    bias: torch.Tensor
    projection: torch.Tensor

    def weight(self, target: str) -> torch.Tensor:
        return self.input_weight if target == "input" else self.recurrent_weight


def _swap_memory_and_forget(gates: numpy.ndarray, cell_size: int) -> numpy.ndarray:
    """Swap gate blocks 1 and 2 along axis 0; its own inverse (TF i,j,f,o <-> torch i,f,j,o)."""
    swapped = gates.copy()
    swapped[cell_size : 2 * cell_size] = gates[2 * cell_size : 3 * cell_size]
    swapped[2 * cell_size : 3 * cell_size] = gates[cell_size : 2 * cell_size]
    return swapped


def tf_weights_to_torch(w_0: numpy.ndarray, input_size: int, cell_size: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """`W_0` (input + hidden, 4 * cell) -> (`input_linearity.weight`, `state_linearity.weight`)."""
    # shape (4 * cell, input_size + hidden_size), TF gate order
    tf_weights = numpy.transpose(w_0)
    torch_weights = _swap_memory_and_forget(tf_weights, cell_size)
    return (
        torch.from_numpy(numpy.ascontiguousarray(torch_weights[:, :input_size])),
        torch.from_numpy(numpy.ascontiguousarray(torch_weights[:, input_size:])),
    )


def tf_bias_to_torch(b: numpy.ndarray, cell_size: int) -> torch.Tensor:
    """`B` (4 * cell,) -> `state_linearity.bias`, with TensorFlow's run-time forget bias folded in."""
    tf_bias = b.copy()
    tf_bias[2 * cell_size : 3 * cell_size] += 1  # float32, as allennlp does
    return torch.from_numpy(_swap_memory_and_forget(tf_bias, cell_size))


def torch_gates_to_tf(gates: numpy.ndarray, cell_size: int) -> numpy.ndarray:
    """A vector in allennlp's gate order (i, f, g, o) in TensorFlow's (i, j, f, o): a change of `B` (no forget bias)."""
    return _swap_memory_and_forget(gates, cell_size)


def tf_projection_to_torch(w_p_0: numpy.ndarray) -> torch.Tensor:
    """`W_P_0` (cell, hidden) -> `state_projection.weight` (hidden, cell)."""
    return torch.from_numpy(numpy.ascontiguousarray(numpy.transpose(w_p_0)))


def tf_cell_to_torch(
    w_0: numpy.ndarray, b: numpy.ndarray, w_p_0: numpy.ndarray, input_size: int
) -> LstmCellWeights:
    """Convert one cell's `W_0`, `B`, `W_P_0` exactly as allennlp's `ElmoLstm.load_weights` does."""
    cell_size = w_p_0.shape[0]
    input_weight, recurrent_weight = tf_weights_to_torch(w_0, input_size, cell_size)
    return LstmCellWeights(
        input_weight=input_weight,
        recurrent_weight=recurrent_weight,
        bias=tf_bias_to_torch(b, cell_size),
        projection=tf_projection_to_torch(w_p_0),
    )


def torch_cell_to_tf(cell: LstmCellWeights) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """The inverse of `tf_cell_to_torch`: returns `W_0`, `B`, `W_P_0` (float32).

    The weights round-trip exactly; the bias can differ in the last bit, because `b + 1 - 1` is not
    always `b` in float32.
    """
    cell_size = cell.projection.shape[1]
    # shape (4 * cell, input_size + hidden_size), torch gate order
    torch_weights = torch.cat([cell.input_weight, cell.recurrent_weight], dim=1).detach().float().numpy()
    w_0 = numpy.ascontiguousarray(numpy.transpose(_swap_memory_and_forget(torch_weights, cell_size)))
    tf_bias = _swap_memory_and_forget(cell.bias.detach().float().numpy(), cell_size)
    tf_bias[2 * cell_size : 3 * cell_size] -= 1
    w_p_0 = numpy.ascontiguousarray(numpy.transpose(cell.projection.detach().float().numpy()))
    return w_0, tf_bias, w_p_0


@dataclass
class CharEncoderWeights:
    """
    allennlp's `_ElmoCharacterEncoder` parameters, as its `_load_*` methods build them.

    # Parameters

    char_embedding : `torch.Tensor`
        (characters + 1, char_dim): `char_embed` with allennlp's all-zero padding row 0 prepended.
    convolutions : `List[Tuple[torch.Tensor, torch.Tensor]]`
        `Conv1d` weight (n, char_dim, width) and bias (n,) per filter width.
    highways : `List[Tuple[torch.Tensor, torch.Tensor]]`
        Per highway layer, allennlp's one `Linear(F, 2F)`: weight (2F, F) and bias (2F,).
    projection : `Tuple[torch.Tensor, torch.Tensor]`
        `Linear(F, projection)` weight (projection, F) and bias (projection,).
    """

    char_embedding: torch.Tensor
    convolutions: List[Tuple[torch.Tensor, torch.Tensor]]
    highways: List[Tuple[torch.Tensor, torch.Tensor]]
    projection: Tuple[torch.Tensor, torch.Tensor]


def tf_char_encoder_to_torch(datasets: Dict[str, numpy.ndarray], num_filters: int, num_highway: int) -> CharEncoderWeights:
    """
    The character encoder's datasets converted exactly as allennlp's `_ElmoCharacterEncoder._load_*`
    methods do (see `torch_char_encoder_to_tf` for the conventions, which this inverts).
    """

    def tensor(array: numpy.ndarray) -> torch.Tensor:
        return torch.from_numpy(numpy.ascontiguousarray(array, dtype=numpy.float32))

    char_embed = datasets["char_embed"]
    embedding = numpy.zeros((char_embed.shape[0] + 1, char_embed.shape[1]), dtype=numpy.float32)
    embedding[1:, :] = char_embed
    convolutions = []
    for i in range(num_filters):
        # (1, width, char_dim, n) -> (n, char_dim, width)
        weight = numpy.transpose(datasets[f"CNN/W_cnn_{i}"].squeeze(axis=0), axes=(2, 1, 0))
        convolutions.append((tensor(weight), tensor(datasets[f"CNN/b_cnn_{i}"])))
    highways = []
    for k in range(num_highway):
        group = f"CNN_high_{k}"
        weight = numpy.concatenate(
            [numpy.transpose(datasets[f"{group}/W_transform"]), -1.0 * numpy.transpose(datasets[f"{group}/W_carry"])]
        )
        bias = numpy.concatenate([datasets[f"{group}/b_transform"], -1.0 * datasets[f"{group}/b_carry"]])
        highways.append((tensor(weight), tensor(bias)))
    projection = (tensor(numpy.transpose(datasets["CNN_proj/W_proj"])), tensor(datasets["CNN_proj/b_proj"]))
    return CharEncoderWeights(tensor(embedding), convolutions, highways, projection)


def torch_char_encoder_to_tf(
    char_embedding: torch.Tensor,
    convolutions: List[Tuple[torch.Tensor, torch.Tensor]],
    highways: List[Tuple[torch.Tensor, torch.Tensor]],
    projection: Tuple[torch.Tensor, torch.Tensor],
) -> Dict[str, numpy.ndarray]:
    """
    The datasets of allennlp's `_ElmoCharacterEncoder`, inverting its `_load_*` methods:

    - `char_embed`: the embedding without the all-zero padding row 0 that allennlp prepends;
    - `CNN/W_cnn_i` (1, width, char_dim, n) from `Conv1d.weight` (n, char_dim, width);
    - `CNN_high_k`: allennlp's highway layer is one `Linear(F, 2F)` holding
      [W_transform^T ; -W_carry^T] and [b_transform ; -b_carry] (allennlp computes
      g x + (1 - g) f(x), TensorFlow (1 - g) x + g f(x), hence the sign of the carry half);
    - `CNN_proj/W_proj` (F, projection) from `Linear.weight` (projection, F).
    """

    def array(tensor: torch.Tensor) -> numpy.ndarray:
        return numpy.ascontiguousarray(tensor.detach().float().numpy())

    datasets = {"char_embed": array(char_embedding[1:])}
    for i, (weight, bias) in enumerate(convolutions):
        # shape (n, char_dim, width) -> (1, width, char_dim, n)
        datasets[f"CNN/W_cnn_{i}"] = array(weight.permute(2, 1, 0).unsqueeze(0))
        datasets[f"CNN/b_cnn_{i}"] = array(bias)
    for k, (weight, bias) in enumerate(highways):
        filters = weight.shape[1]
        datasets[f"CNN_high_{k}/W_transform"] = array(weight[:filters].t())
        datasets[f"CNN_high_{k}/W_carry"] = array(-weight[filters:].t())
        datasets[f"CNN_high_{k}/b_transform"] = array(bias[:filters])
        datasets[f"CNN_high_{k}/b_carry"] = array(-bias[filters:])
    datasets["CNN_proj/W_proj"] = array(projection[0].t())
    datasets["CNN_proj/b_proj"] = array(projection[1])
    return datasets
