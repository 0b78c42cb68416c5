"""
Reading and checking an ELMo `options.json`.
"""

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from elmo_compress.outputs import atomic_write_text
from elmo_compress.errors import ElmoWeightsError


def _get(options: Dict[str, Any], section: str, key: str, source: str) -> Any:
    try:
        return options[section][key]
    except (KeyError, TypeError):
        raise ElmoWeightsError(f"ELMo options {source} lack {section}.{key}") from None


def _positive_int(value: Any, name: str, source: str) -> int:
    """`value` if it is a JSON integer >= 1 (not a string, a float or a boolean)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ElmoWeightsError(f"ELMo options {source}: {name} must be an integer >= 1, got {value!r}")
    return value


def _clip(value: Any, name: str, source: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ElmoWeightsError(f"ELMo options {source}: {name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class ElmoOptions:
    """
    The parts of an ELMo `options.json` that fix the shapes of the weights.

    # Parameters

    raw : `Dict[str, Any]`
        The whole JSON object, kept so it can be written back unchanged.
    projection_dim : `int`
        LSTM projection size; the LSTM input and hidden size per direction.
    cell_dim : `int`
        LSTM memory cell size (`lstm.dim`).
    num_layers : `int`
        Number of LSTM layers per direction.
    char_embedding_dim : `int`
        Size of the character embeddings.
    filters : `List[Tuple[int, int]]`
        `(width, number)` of each character convolution.
    num_highway : `int`
        Number of highway layers.
    """

    raw: Dict[str, Any]
    projection_dim: int
    cell_dim: int
    num_layers: int
    char_embedding_dim: int
    filters: List[Tuple[int, int]]
    num_highway: int

    @property
    def num_filters(self) -> int:
        return sum(number for _, number in self.filters)

    def elmo_lstm_arguments(self) -> Dict[str, Any]:
        """The sizes and clips of allennlp's `ElmoLstm` for these options, as `_ElmoBiLm` passes them."""
        return {
            "input_size": self.projection_dim,
            "hidden_size": self.projection_dim,
            "cell_size": self.cell_dim,
            "num_layers": self.num_layers,
            "memory_cell_clip_value": self.raw["lstm"]["cell_clip"],
            "state_projection_clip_value": self.raw["lstm"]["proj_clip"],
        }

    @classmethod
    def from_dict(cls, options: Dict[str, Any], source: str = "<dict>") -> "ElmoOptions":
        filters = _get(options, "char_cnn", "filters", source)
        if not isinstance(filters, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in filters):
            raise ElmoWeightsError(f"ELMo options {source}: char_cnn.filters must be a list of [width, number] pairs")
        filter_pairs = [
            (_positive_int(width, "a filter width", source), _positive_int(number, "a filter count", source))
            for width, number in filters
        ]
        if not filter_pairs:
            raise ElmoWeightsError(f"ELMo options {source}: char_cnn.filters is empty")
        if not _get(options, "lstm", "use_skip_connections", source):
            raise ElmoWeightsError(
                f"ELMo options {source}: lstm.use_skip_connections must be true "
                "(allennlp only runs biLMs with residual connections)"
            )
        for key in ("cell_clip", "proj_clip"):
            _clip(_get(options, "lstm", key, source), f"lstm.{key}", source)
        highway = _get(options, "char_cnn", "n_highway", source)
        if not isinstance(highway, int) or isinstance(highway, bool) or highway < 0:
            raise ElmoWeightsError(f"ELMo options {source}: char_cnn.n_highway must be an integer >= 0, got {highway!r}")
        _positive_int(_get(options, "char_cnn", "max_characters_per_token", source), "char_cnn.max_characters_per_token", source)
        if _get(options, "char_cnn", "activation", source) not in ("relu", "tanh"):
            raise ElmoWeightsError(f"ELMo options {source}: char_cnn.activation must be relu or tanh")
        return cls(
            raw=options,
            projection_dim=_positive_int(_get(options, "lstm", "projection_dim", source), "lstm.projection_dim", source),
            cell_dim=_positive_int(_get(options, "lstm", "dim", source), "lstm.dim", source),
            num_layers=_positive_int(_get(options, "lstm", "n_layers", source), "lstm.n_layers", source),
            char_embedding_dim=_positive_int(
                _get(options["char_cnn"], "embedding", "dim", source), "char_cnn.embedding.dim", source
            ),
            filters=filter_pairs,
            num_highway=highway,
        )

    @classmethod
    def from_file(cls, path: str) -> "ElmoOptions":
        if not os.path.isfile(path):
            raise ElmoWeightsError(f"ELMo options file not found: {path}")
        try:
            with open(path, encoding="utf-8") as options_file:
                options = json.load(options_file)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ElmoWeightsError(f"ELMo options file {path} is not valid JSON ({error})") from None
        if not isinstance(options, dict):
            raise ElmoWeightsError(f"ELMo options file {path} must hold a JSON object")
        return cls.from_dict(options, source=path)

    def to_json(self) -> str:
        return json.dumps(self.raw, indent=2, sort_keys=True) + "\n"

    def save(self, path: str) -> None:
        """Write the options as JSON, atomically."""
        atomic_write_text(path, self.to_json())
