"""
Weight I/O: official ELMo `options.json` + `weights.hdf5`, and the compressed weights format.
"""

from elmo_compress.weights.compress import MatrixReport, compress_lstm_matrices, compress_weights
from elmo_compress.weights.elmo_weights import ElmoWeights, MatrixKey, file_sha256
from elmo_compress.weights.layout import DIRECTIONS, MATRIX_TARGETS, CharEncoderWeights, LstmCellWeights
from elmo_compress.weights.options import ElmoOptions
from elmo_compress.weights import layout
