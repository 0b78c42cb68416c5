"""
Compression of single weight matrices: truncated SVD, Semi-NMF and magnitude pruning, the rank
choices that size them, and `CompressionSpec`, the user-facing compression block. Pure tensor
math: nothing here imports allennlp.
"""

from elmo_compress.factorize.checks import matrix_shape, validate_rank
from elmo_compress.factorize.compressed_matrix import METHODS, CompressedMatrix, compress_matrix, dense_matrix
from elmo_compress.factorize.prune import low_rank_parameter_count, magnitude_prune, magnitude_prune_mask
from elmo_compress.factorize.rank import RANK_KINDS, RankSpec, rank_for_energy
from elmo_compress.factorize.semi_nmf import semi_nmf
from elmo_compress.factorize.spec import MATRIX_TARGETS, TARGET_CHOICES, TARGETS, CompressionSpec
from elmo_compress.factorize.svd import singular_values, truncated_svd

__all__ = [
    "METHODS",
    "MATRIX_TARGETS",
    "RANK_KINDS",
    "TARGETS",
    "TARGET_CHOICES",
    "CompressedMatrix",
    "CompressionSpec",
    "RankSpec",
    "compress_matrix",
    "dense_matrix",
    "low_rank_parameter_count",
    "magnitude_prune",
    "magnitude_prune_mask",
    "matrix_shape",
    "rank_for_energy",
    "semi_nmf",
    "singular_values",
    "truncated_svd",
    "validate_rank",
]
