"""
The one mapping from a stored form (`elmo_compress.methods.FORMS`) to the layer that runs it. A new
form is one new module with a `LinearForm` layer plus one line here.
"""

from typing import Dict, Optional, Type

import torch

from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressedMatrix
from elmo_compress.modules.linear_form import DenseLinear, LinearForm
from elmo_compress.modules.low_rank_linear import LowRankLinear
from elmo_compress.modules.pruned_linear import PrunedLinear

LAYER_FORMS: Dict[str, Type[LinearForm]] = {
    "dense": DenseLinear,
    "factors": LowRankLinear,
    "sparse": PrunedLinear,
}


def layer_from_matrix(matrix: CompressedMatrix, bias: Optional[torch.Tensor] = None) -> torch.nn.Module:
    """The layer computing `x @ matrix^T + bias` in the matrix's stored form."""
    return LAYER_FORMS[matrix.form].from_matrix(matrix, bias)


def as_linear_form(module: torch.nn.Module) -> LinearForm:
    """
    `module` itself when it answers `LinearForm`; a plain `torch.nn.Linear` (as allennlp builds them)
    is asked through a `DenseLinear` that shares its parameters.
    """
    if isinstance(module, LinearForm):
        return module
    if type(module) is torch.nn.Linear:
        return DenseLinear.view_of(module)
    raise ElmoCompressError(f"{type(module).__name__} is not a linear layer elmo_compress knows")
