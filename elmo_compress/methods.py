"""
The registry of compression methods: one line per method. Pure Python, so the command line can list
the methods without importing torch.

A method turns a weight matrix and a rank into one of three stored forms:

- `"factors"`: two factors `left` (m x r) and `right` (r x n), run as a `LowRankLinear`;
- `"sparse"`: the matrix with all but some entries set to zero, run as a `PrunedLinear`;
- `"dense"`: the matrix itself (what an uncompressed matrix is).

Adding a method means writing its function (signature of `MethodFunction` below, in
`elmo_compress/factorize/`) and adding one `Method(...)` line to `METHODS`. The stored form decides
everything downstream (file format, module, fast loop, int8, fine-tuning), so nothing else changes.
"""

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple

FORMS: Tuple[str, ...] = ("dense", "factors", "sparse")


@dataclass(frozen=True)
class Method:
    """
    One compression method.

    # Parameters

    name : `str`
        What configs, files and tables call it.
    form : `str`
        One of `FORMS`: how its result is stored and run.
    function : `str`
        `"module:attribute"` of its function, called as
        `function(weight, rank, settings, statistics, on_iteration)` and returning the tensors of its
        form: `(left, right)` for `"factors"`, the pruned matrix and the number of kept entries for
        `"sparse"`.
    needs_statistics : `bool`
        Whether it needs the second moment of the matrix's inputs (activation-aware methods).
    summary : `str`
        One line for `--help` and documentation.
    """

    name: str
    form: str
    function: str
    needs_statistics: bool
    summary: str

    def load(self) -> Callable[..., Any]:
        """The method's function (imported on first use)."""
        module, attribute = self.function.split(":")
        return getattr(importlib.import_module(module), attribute)


METHODS: Dict[str, Method] = {
    method.name: method
    for method in (
        Method("svd", "factors", "elmo_compress.factorize.svd:svd_method", False, "truncated SVD"),
        Method(
            "semi_nmf",
            "factors",
            "elmo_compress.factorize.semi_nmf:semi_nmf_method",
            False,
            "Semi-NMF, W ~ F G with G >= 0 (Ding, Li & Jordan 2010)",
        ),
        Method(
            "prune",
            "sparse",
            "elmo_compress.factorize.prune:prune_method",
            False,
            "magnitude pruning to the parameter count of rank-r factors",
        ),
        Method(
            "asvd",
            "factors",
            "elmo_compress.factorize.whitened_svd:asvd_method",
            True,
            "activation-aware SVD: least expected output error on calibration text (SVD of W L, C = L L^T)",
        ),
    )
}
METHOD_NAMES: Tuple[str, ...] = tuple(METHODS)
# The methods of Winata et al. 2019, the ones sweeps and the demo compare by default.
PAPER_METHODS: Tuple[str, ...] = ("svd", "semi_nmf", "prune")
