"""
The one place that knows how an official ELMo `weights.hdf5` (written by bilm-tf) is laid out and
how allennlp 2.10.1 turns it into PyTorch tensors (`allennlp.modules.elmo_lstm.ElmoLstm.load_weights`
and `_ElmoCharacterEncoder._load_*`). A file is converted once when it is read (`file_to_torch`) and
once when it is written (`torch_to_file`); everything in between works on the torch form.

LSTM cells (`d` = direction, 0 forward and 1 backward; `l` = layer):

    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0    (input + hidden, 4 * cell)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/B      (4 * cell,)
    RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_P_0  (cell, hidden)

Conventions of the conversion:

1. TensorFlow multiplies `x @ W`, PyTorch `W @ x`: `W_0` and `W_P_0` are transposed.
2. `W_0` stacks the input matrix (first `input_size` rows) on the recurrent one.
3. Gate blocks are ordered input, memory (j), forget, output in TensorFlow and input, forget,
   memory, output in PyTorch: blocks 1 and 2 are swapped, in both matrices and in the bias.
4. TensorFlow's `LSTMCell` adds `forget_bias = 1.0` at run time instead of storing it. allennlp adds
   the 1 (float32) when it loads a file into its modules; so does `LstmCellWeights.module_bias`. The
   in-memory bias is the stored one, so reading and writing a file is exact (no `b + 1 - 1`).
5. The only LSTM bias is `state_linearity.bias`; `input_linearity` and `state_projection` have none.

Every step is a transpose, a block swap or a sign change of float32 arrays, all exact: a file read and
written again holds the same bits.
"""

import dataclasses
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

import numpy
import torch

from elmo_compress.constants import DIRECTIONS, MATRIX_TARGETS, MatrixKey
from elmo_compress.factorize import CompressedMatrix, dense_matrix

Datasets = Dict[str, numpy.ndarray]
CellKey = Tuple[int, int]  # (layer, direction)

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
    One `LstmCellWithProjection`'s weights in memory, in allennlp's (PyTorch) convention.

    # Parameters

    input : `CompressedMatrix`
        `input_linearity` (W_i), shape (4 * cell, input_size), gate order i, f, g, o; dense or compressed.
    recurrent : `CompressedMatrix`
        `state_linearity` (W_h), shape (4 * cell, hidden_size), gate order i, f, g, o.
    bias : `torch.Tensor`
        `state_linearity.bias` as the file stores it, shape (4 * cell,), gate order i, f, g, o, without
        TensorFlow's run-time forget bias (`module_bias()` adds it, where allennlp does).
    projection : `torch.Tensor`
        `state_projection.weight`, shape (hidden_size, cell).
    """

    input: CompressedMatrix
    recurrent: CompressedMatrix
    bias: torch.Tensor
    projection: torch.Tensor

    def matrix(self, target: str) -> CompressedMatrix:
        return self.input if target == "input" else self.recurrent

    def with_matrices(self, input: CompressedMatrix, recurrent: CompressedMatrix) -> "LstmCellWeights":
        return dataclasses.replace(self, input=input, recurrent=recurrent)

    def module_bias(self) -> torch.Tensor:
        """`state_linearity.bias` as the module holds it: the forget slice + 1 (float32, as allennlp adds it)."""
        return with_forget_bias(self.bias, self.projection.shape[1])


def with_forget_bias(bias: torch.Tensor, cell_size: int) -> torch.Tensor:
    """A bias in allennlp's gate order with TensorFlow's forget bias (1.0) added to its forget slice."""
    module_bias = bias.detach().clone()
    module_bias[cell_size : 2 * cell_size] += 1
    return module_bias


def without_forget_bias(module_bias: torch.Tensor, cell_size: int) -> torch.Tensor:
    """
    The inverse of `with_forget_bias`, for a bias read back from a module (after training). `b + 1 - 1`
    is not always `b` in float32, which is why biases that never went through a module are never passed here.
    """
    bias = module_bias.detach().float().clone()
    bias[cell_size : 2 * cell_size] -= 1
    return bias


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

    def tensors(self) -> Dict[str, torch.Tensor]:
        """Every tensor by a fixed name, in a fixed order (for comparisons and fingerprints)."""
        named = {"char_embedding": self.char_embedding}
        for i, (weight, bias) in enumerate(self.convolutions):
            named.update({f"conv_{i}.weight": weight, f"conv_{i}.bias": bias})
        for k, (weight, bias) in enumerate(self.highways):
            named.update({f"highway_{k}.weight": weight, f"highway_{k}.bias": bias})
        named.update({"projection.weight": self.projection[0], "projection.bias": self.projection[1]})
        return named

    def num_parameters(self) -> int:
        """Stored numbers, as the file stores them (without the padding row)."""
        return sum(tensor.numel() for tensor in self.tensors().values()) - self.char_embedding.shape[1]


def _tensor(array: numpy.ndarray) -> torch.Tensor:
    return torch.from_numpy(numpy.array(array, dtype=numpy.float32, order="C", copy=True))


def _array(tensor: torch.Tensor) -> numpy.ndarray:
    return numpy.ascontiguousarray(tensor.detach().float().numpy())


def _swap_memory_and_forget(gates: numpy.ndarray, cell_size: int) -> numpy.ndarray:
    """Swap gate blocks 1 and 2 along axis 0; its own inverse (TF i,j,f,o <-> torch i,f,j,o)."""
    swapped = gates.copy()
    swapped[cell_size : 2 * cell_size] = gates[2 * cell_size : 3 * cell_size]
    swapped[2 * cell_size : 3 * cell_size] = gates[cell_size : 2 * cell_size]
    return swapped


def _char_encoder_to_torch(datasets: Mapping[str, numpy.ndarray], num_filters: int, num_highway: int) -> CharEncoderWeights:
    char_embed = datasets["char_embed"]
    embedding = numpy.zeros((char_embed.shape[0] + 1, char_embed.shape[1]), dtype=numpy.float32)
    embedding[1:, :] = char_embed
    convolutions = []
    for i in range(num_filters):
        # (1, width, char_dim, n) -> (n, char_dim, width)
        weight = numpy.transpose(datasets[f"CNN/W_cnn_{i}"].squeeze(axis=0), axes=(2, 1, 0))
        convolutions.append((_tensor(weight), _tensor(datasets[f"CNN/b_cnn_{i}"])))
    highways = []
    for k in range(num_highway):
        group = f"CNN_high_{k}"
        # allennlp computes g x + (1 - g) f(x), TensorFlow (1 - g) x + g f(x): hence the carry half's sign.
        weight = numpy.concatenate(
            [numpy.transpose(datasets[f"{group}/W_transform"]), -1.0 * numpy.transpose(datasets[f"{group}/W_carry"])]
        )
        bias = numpy.concatenate([datasets[f"{group}/b_transform"], -1.0 * datasets[f"{group}/b_carry"]])
        highways.append((_tensor(weight), _tensor(bias)))
    projection = (_tensor(numpy.transpose(datasets["CNN_proj/W_proj"])), _tensor(datasets["CNN_proj/b_proj"]))
    return CharEncoderWeights(_tensor(embedding), convolutions, highways, projection)


def _char_encoder_to_file(encoder: CharEncoderWeights) -> Datasets:
    datasets = {"char_embed": _array(encoder.char_embedding[1:])}
    for i, (weight, bias) in enumerate(encoder.convolutions):
        # shape (n, char_dim, width) -> (1, width, char_dim, n)
        datasets[f"CNN/W_cnn_{i}"] = _array(weight.permute(2, 1, 0).unsqueeze(0))
        datasets[f"CNN/b_cnn_{i}"] = _array(bias)
    for k, (weight, bias) in enumerate(encoder.highways):
        filters = weight.shape[1]
        datasets[f"CNN_high_{k}/W_transform"] = _array(weight[:filters].t())
        datasets[f"CNN_high_{k}/W_carry"] = _array(-weight[filters:].t())
        datasets[f"CNN_high_{k}/b_transform"] = _array(bias[:filters])
        datasets[f"CNN_high_{k}/b_carry"] = _array(-bias[filters:])
    datasets["CNN_proj/W_proj"] = _array(encoder.projection[0].t())
    datasets["CNN_proj/b_proj"] = _array(encoder.projection[1])
    return datasets


def _cell_to_torch(
    datasets: Mapping[str, numpy.ndarray], group: str, input_size: int, matrices: Optional[Tuple[CompressedMatrix, CompressedMatrix]]
) -> LstmCellWeights:
    w_p_0 = datasets[f"{group}/W_P_0"]
    cell_size = w_p_0.shape[0]
    if matrices is None:
        # shape (4 * cell, input_size + hidden_size), torch gate order
        stacked = _swap_memory_and_forget(numpy.transpose(datasets[f"{group}/W_0"]), cell_size)
        matrices = (dense_matrix(_tensor(stacked[:, :input_size])), dense_matrix(_tensor(stacked[:, input_size:])))
    bias = _tensor(_swap_memory_and_forget(datasets[f"{group}/B"], cell_size))
    return LstmCellWeights(matrices[0], matrices[1], bias, _tensor(numpy.transpose(w_p_0)))


def _cell_to_file(cell: LstmCellWeights, group: str, with_w_0: bool) -> Datasets:
    cell_size = cell.projection.shape[1]
    datasets = {
        f"{group}/B": _swap_memory_and_forget(_array(cell.bias), cell_size),
        f"{group}/W_P_0": _array(cell.projection.t()),
    }
    if with_w_0:
        stacked = torch.cat([cell.input.to_dense(), cell.recurrent.to_dense()], dim=1)
        datasets[f"{group}/W_0"] = numpy.ascontiguousarray(numpy.transpose(_swap_memory_and_forget(_array(stacked), cell_size)))
    return datasets


def file_to_torch(
    datasets: Mapping[str, numpy.ndarray],
    num_filters: int,
    num_highway: int,
    num_layers: int,
    input_size: int,
    matrices: Optional[Mapping[MatrixKey, CompressedMatrix]] = None,
) -> Tuple[CharEncoderWeights, Dict[CellKey, LstmCellWeights]]:
    """
    The read conversion: a weights file's datasets (TensorFlow layout) in torch form, as allennlp's
    loaders convert them. `matrices` are a compressed file's LSTM matrices (already in torch form, in
    place of the `W_0` datasets); without them every cell's `W_0` is read as two dense matrices.
    """
    encoder = _char_encoder_to_torch(datasets, num_filters, num_highway)
    cells = {}
    for layer in range(num_layers):
        for direction in (0, 1):
            pair = None if matrices is None else tuple(matrices[(layer, direction, target)] for target in MATRIX_TARGETS)
            cells[(layer, direction)] = _cell_to_torch(datasets, cell_group(layer, direction), input_size, pair)
    return encoder, cells


def torch_to_file(encoder: CharEncoderWeights, cells: Mapping[CellKey, LstmCellWeights], with_w_0: bool) -> Datasets:
    """
    The write conversion, the inverse of `file_to_torch`: every dataset of the TensorFlow layout, with
    each cell's `W_0` when `with_w_0` (an official file; a compressed file stores its matrices instead).
    """
    datasets = _char_encoder_to_file(encoder)
    for (layer, direction), cell in sorted(cells.items()):
        datasets.update(_cell_to_file(cell, cell_group(layer, direction), with_w_0))
    return datasets

