"""
The few lines every figure of this package shares: matplotlib on its file-only backend, and PNGs
written atomically (no partial file when plotting fails).
"""

from typing import Any

from elmo_compress.atomic import atomic_output


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend (no display needed), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def save_png(figure: Any, path: str, dpi: int = 110) -> None:
    """Write `figure` to `path` as a PNG, atomically, and close it."""
    with atomic_output(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")
    pyplot().close(figure)
