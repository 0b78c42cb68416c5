"""
Compression of single weight matrices: truncated SVD, Semi-NMF and magnitude pruning, the rank
choices that size them, and `CompressionSpec`, the user-facing compression block. Pure tensor
math: nothing here imports allennlp. The methods themselves are registered in `elmo_compress.methods`.
"""

from elmo_compress.factorize.checks import matrix_shape, validate_rank
from elmo_compress.factorize.compressed_matrix import CompressedMatrix, compress_matrix, dense_matrix, method_form
from elmo_compress.factorize.prune import low_rank_parameter_count, magnitude_prune, magnitude_prune_mask
from elmo_compress.factorize.rank import RankSpec, break_even_rank, rank_for_energy
from elmo_compress.factorize.semi_nmf import semi_nmf
from elmo_compress.factorize.settings import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, MethodSettings
from elmo_compress.factorize.spec import CompressionSpec
from elmo_compress.factorize.svd import singular_values, truncated_svd

__all__ = [
    "DEFAULT_MAX_ITERATIONS",
    "DEFAULT_TOLERANCE",
    "CompressedMatrix",
    "CompressionSpec",
    "MethodSettings",
    "RankSpec",
    "break_even_rank",
    "compress_matrix",
    "dense_matrix",
    "low_rank_parameter_count",
    "magnitude_prune",
    "magnitude_prune_mask",
    "matrix_shape",
    "method_form",
    "rank_for_energy",
    "semi_nmf",
    "singular_values",
    "truncated_svd",
    "validate_rank",
]
