"""
The few lines every figure of this package shares: matplotlib on its file-only backend, and PNGs
written atomically (no partial file when plotting fails).
"""

from typing import Any

import io

from elmo_compress.outputs import atomic_write_bytes


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend (no display needed), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def save_png(figure: Any, path: str, dpi: int = 110) -> None:
    """Write `figure` to `path` as a PNG, atomically, and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=dpi, format="png")
    pyplot().close(figure)
    atomic_write_bytes(path, buffer.getvalue())
