"""
What a biLM's matrices say about compressing them: spectra, effective ranks, the norms of Winata et al. 2019, SVD vs
pruning error at equal size (`spectrum`), rank recommendation under a budget (`recommend`), the norm vs
metric-drop view of a sweep CSV (`sweep`), and the JSON / Markdown / PNG outputs (`report`, `plots`).
`spectrum` and `recommend` are pure tensor math.
"""

from elmo_compress.analysis.matrices import NamedMatrix, analysis_matrices
from elmo_compress.analysis.recommend import Budget, Recommendation, recommend_ranks
from elmo_compress.analysis.spectrum import MatrixStatistics, analyze_matrix, entropy_effective_rank
from elmo_compress.analysis.sweep import SweepError, SweepPoint, correlation_view, read_sweep

__all__ = [
    "Budget",
    "MatrixStatistics",
    "NamedMatrix",
    "Recommendation",
    "SweepError",
    "SweepPoint",
    "analysis_matrices",
    "analyze_matrix",
    "correlation_view",
    "entropy_effective_rank",
    "read_sweep",
    "recommend_ranks",
]
