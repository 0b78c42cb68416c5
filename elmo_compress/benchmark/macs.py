"""
Multiply-add counts per token of the biLSTM and the character encoder, and the ideal speed-ups they imply.
"""

from typing import Optional

from elmo_compress.benchmark.models import MAX_CHARACTERS, Model, Setting
from elmo_compress.constants import TARGET_LABELS
from elmo_compress.weights import ElmoOptions


def matrix_macs(rows: int, columns: int, rank: Optional[int]) -> int:
    """Multiply-adds of `x @ W^T` per input vector, W (rows x columns) dense or as rank-r factors."""
    return rows * columns if rank is None else rank * (rows + columns)


def lstm_macs_per_token(options: ElmoOptions, setting: Setting) -> int:
    """W_i, W_h and the projection of every layer and direction, per token."""
    gates, size = 4 * options.cell_dim, options.projection_dim
    input_rank = setting.rank if setting.target == "both" else None
    recurrent_rank = setting.rank if setting.target in ("recurrent", "both") else None
    cell = matrix_macs(gates, size, input_rank) + matrix_macs(gates, size, recurrent_rank)
    cell += options.cell_dim * size
    return 2 * options.num_layers * cell


def char_cnn_macs_per_token(options: ElmoOptions) -> int:
    """Convolutions over 50 characters, highway layers (each a Linear(F, 2F)) and the projection."""
    convolutions = sum(
        (MAX_CHARACTERS - width + 1) * width * options.char_embedding_dim * number
        for width, number in options.filters
    )
    filters = options.num_filters
    return convolutions + options.num_highway * filters * 2 * filters + filters * options.projection_dim


def mac_arithmetic(model: Model, options: ElmoOptions) -> str:
    """The multiply-add counts behind the ideal speed-ups, written out."""
    gates, size, cell = 4 * options.cell_dim, options.projection_dim, options.cell_dim
    cells = 2 * options.num_layers
    dense = lstm_macs_per_token(options, Setting("dense"))
    lines = [
        f"{model.name}: per token, per layer-direction ({cells} of them):",
        f"  W_i {gates}x{size}: {gates * size:,}   W_h {gates}x{size}: {gates * size:,}   "
        f"projection {size}x{cell}: {cell * size:,}",
        f"  dense biLSTM: {cells} x {gates * size * 2 + cell * size:,} = {dense:,} MACs/token",
        f"  a rank-r factor pair of a {gates}x{size} matrix costs r x ({gates} + {size}) = r x {gates + size:,}",
    ]
    for rank in model.ranks:
        for target in ("recurrent", "both"):
            macs = lstm_macs_per_token(options, Setting("", target=target, rank=rank))
            lines.append(
                f"  SVD {TARGET_LABELS[target]:8s} r{rank:<4d}: {macs:>12,} MACs/token, ideal {dense / macs:.2f}x"
            )
    char_side = char_cnn_macs_per_token(options)
    lines.append(f"  char CNN + highway + projection (whole biLM only): {char_side:,} MACs/token")
    lines.append(
        f"  whole biLM: biLSTM + {char_side:,} x (share of token rows the character encoder ran: "
        "1 without the cache, 1 - hit rate with it)"
    )
    lines.append("  int8 changes no MAC count: its ideal is that of the float row with the same factors.")
    return "\n".join(lines)
