"""
Modules: low-rank and pruned linear layers, surgery on allennlp's ElmoLstm, the biLM built from
official or compressed weights, the fast biLSTM forward and int8 quantization.
"""

from elmo_compress.modules.bilm import CompressedElmoBiLm
from elmo_compress.modules.fast_lstm import FastElmoLstm
from elmo_compress.modules.low_rank_linear import LowRankLinear
from elmo_compress.modules.pruned_linear import PrunedLinear
from elmo_compress.modules.quantize import QuantizedLowRankLinear, quantize_bilm, quantize_elmo_lstm
from elmo_compress.modules.surgery import compress_elmo_bilm, linear_from_matrix, load_lstm_weights
from elmo_compress.modules.export import matrix_from_linear, weights_from_bilm
