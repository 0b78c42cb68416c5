"""Small deterministic test matrices for the factorize tests."""

from typing import Sequence

import torch


def random_matrix(rows: int, columns: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Standard normal entries, shape (rows, columns)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(rows, columns, generator=generator, dtype=torch.float64).to(dtype)


def random_orthonormal(rows: int, columns: int, seed: int) -> torch.Tensor:
    """Shape (rows, columns) with orthonormal columns (rows >= columns), from a QR decomposition."""
    q, r = torch.linalg.qr(random_matrix(rows, columns, seed))
    return q * torch.sign(torch.diagonal(r))


def matrix_with_spectrum(rows: int, columns: int, spectrum: Sequence[float], seed: int = 0) -> torch.Tensor:
    """`U diag(spectrum) V^T`, shape (rows, columns), float64; `len(spectrum) <= min(rows, columns)`."""
    values = torch.tensor(spectrum, dtype=torch.float64)
    u = random_orthonormal(rows, len(values), seed)
    v = random_orthonormal(columns, len(values), seed + 1)
    return (u * values) @ v.t()
