"""
`compress-elmo shrink`: calibrate -> allocate -> factorize -> distill under a parameter budget.
"""

from elmo_compress.shrink.allocation import Allocation, allocate
from elmo_compress.shrink.pipeline import ShrinkSettings, shrink_files

__all__ = ["Allocation", "ShrinkSettings", "allocate", "shrink_files"]
