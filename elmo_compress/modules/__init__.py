"""
Modules: the layers that hold one LSTM matrix in each stored form (`LinearForm`: dense, low-rank,
pruned, int8), surgery on allennlp's ElmoLstm, the biLM built from official or compressed weights,
the fast biLSTM forward and int8 quantization.
"""

from elmo_compress.modules.bilm import CompressedElmoBiLm
from elmo_compress.modules.export import bilm_layout, bilm_parameter_counts, weights_from_bilm
from elmo_compress.modules.fast_lstm import FastElmoLstm
from elmo_compress.modules.forms import LAYER_FORMS, as_linear_form, layer_from_matrix
from elmo_compress.modules.linear_form import DenseLinear, Int8Linear, LinearForm
from elmo_compress.modules.low_rank_linear import LowRankLinear
from elmo_compress.modules.pruned_linear import PrunedLinear
from elmo_compress.modules.quantize import QuantizedLowRankLinear, quantize_bilm, quantize_elmo_lstm
from elmo_compress.modules.runtime_options import RuntimeOptions
from elmo_compress.modules.surgery import compress_elmo_bilm, compressed_parameters, load_lstm_weights, lstm_cells
