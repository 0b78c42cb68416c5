"""
`CompressionSpec`, the user-facing compression block of configs and the CLI: which method, which
of the biLSTM's matrices, and how large each factorization is.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from elmo_compress.constants import (
    DEFAULT_TARGET,
    DIRECTIONS,
    MATRIX_TARGETS,
    RANK_KINDS,
    TARGET_CHOICES,
    TARGET_MATRICES,
)
from elmo_compress.errors import CompressionSpecError
from elmo_compress.factorize.checks import is_int
from elmo_compress.factorize.rank import RankSpec
from elmo_compress.factorize.settings import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, MethodSettings
from elmo_compress.methods import METHOD_NAMES, METHODS

# Key, inside one layer's overrides, of the rank that applies to all of that layer's matrices.
ALL_MATRICES = "all"

_SETTINGS = ("seed", "max_iterations", "tolerance")
_TOP_LEVEL_KEYS = ("method", "target") + RANK_KINDS + MATRIX_TARGETS + ("layers", "statistics") + _SETTINGS
_DIRECTION_KEYS = RANK_KINDS + MATRIX_TARGETS
_LAYER_KEYS = _DIRECTION_KEYS + DIRECTIONS
# Per-layer, per-direction overrides: (layer, direction index) -> {"all" | target: RankSpec}.
DirectionOverrides = Dict[Tuple[int, int], Dict[str, RankSpec]]


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


@dataclass(frozen=True)
class CompressionSpec:
    """
    What to compress in a biLM and how. In JSON (an AllenNLP config's `compression` block, or
    the CLI's `--compression`):

    ```
    {
        "method": "svd",                    # "svd", "semi_nmf" or "prune"
        "target": "both",                   # "input" (W_i), "recurrent" (W_h) or "both"; default "both"
        "rank": 64,                         # or "fraction": 0.25, or "energy": 0.9 (exactly one)
        "input": {"energy": 0.95},          # optional per-target overrides
        "recurrent": {"rank": 32},
        "layers": {                         # optional per-layer overrides; keys are layer indices
            "1": {"rank": 128, "recurrent": {"fraction": 0.5}},
            "0": {"forward": {"input": {"rank": 12}, "recurrent": {"rank": 4}}}  # per direction
        },
        "statistics": "calibration.npz",    # input statistics file (`compress-elmo calibrate`), for "asvd"
        "seed": 0,                          # optional, recorded with the output
        "max_iterations": 300,              # optional, Semi-NMF
        "tolerance": 1e-5                   # optional, Semi-NMF
    }
    ```

    The size of one matrix's factorization is the most specific of: the top-level size, the
    override for its target, its layer's own size (`"all"` here), its layer's override for
    its target, its layer-direction's own size, its layer-direction's override for its target. For `"prune"` the size says how many entries to keep: as many as rank-r factors
    would store.

    # Parameters

    method : `str`
        A method of `elmo_compress.methods.METHODS`.
    target : `str`
        One of `TARGET_CHOICES`: which of each cell's matrices are compressed.
    rank : `RankSpec`
        Size of every compressed matrix unless overridden.
    per_target : `Dict[str, RankSpec]`, optional (default = `{}`)
        Overrides keyed `"input"` / `"recurrent"`; only for targets that `target` compresses.
    layers : `Dict[int, Dict[str, RankSpec]]`, optional (default = `{}`)
        Per-layer overrides keyed by layer index; inner keys `"all"`, `"input"`, `"recurrent"`.
    directions : `Dict[Tuple[int, int], Dict[str, RankSpec]]`, optional (default = `{}`)
        Per-layer, per-direction overrides keyed by (layer index, direction: 0 forward, 1 backward);
        inner keys as in `layers`.
    statistics : `str`, optional (default = `None`)
        Path of a calibration statistics file (`elmo_compress.calibration`), for methods that need
        the second moments of the matrices' inputs (`"asvd"`); refused for the others.
    max_iterations : `int`, optional (default = `300`)
        Semi-NMF iteration limit.
    tolerance : `float`, optional (default = `1e-5`)
        Semi-NMF stopping tolerance (relative improvement per iteration).
    seed : `int`, optional (default = `0`)
        Recorded for reproducibility; the factorizations themselves use no random numbers.
    """

    method: str
    target: str
    rank: RankSpec
    per_target: Dict[str, RankSpec] = field(default_factory=dict, hash=False)
    layers: Dict[int, Dict[str, RankSpec]] = field(default_factory=dict, hash=False)
    directions: DirectionOverrides = field(default_factory=dict, hash=False)
    statistics: Optional[str] = None
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    tolerance: float = DEFAULT_TOLERANCE
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHOD_NAMES:
            raise CompressionSpecError(
                f"unknown compression method {self.method!r}; expected one of {', '.join(METHOD_NAMES)}"
            )
        if self.target not in TARGET_MATRICES:
            raise CompressionSpecError(
                f"unknown compression target {self.target!r}; expected one of {', '.join(TARGET_CHOICES)}"
            )
        if not isinstance(self.rank, RankSpec):
            raise CompressionSpecError(f"rank must be a RankSpec, got {self.rank!r}")
        self._check_overrides("override", self.per_target, MATRIX_TARGETS)
        for layer, overrides in self.layers.items():
            if not is_int(layer) or layer < 0:
                raise CompressionSpecError(f"layer key must be a non-negative int, got {layer!r}")
            if not overrides:
                raise CompressionSpecError(f"layer {layer} override is empty")
            self._check_overrides(f"layer {layer} override", overrides, (ALL_MATRICES,) + MATRIX_TARGETS)
        for key, overrides in self.directions.items():
            if not (isinstance(key, tuple) and len(key) == 2 and is_int(key[0]) and key[0] >= 0 and key[1] in (0, 1)):
                raise CompressionSpecError(f"direction override key must be (layer >= 0, direction 0 or 1), got {key!r}")
            where = f"layer {key[0]} {DIRECTIONS[key[1]]} override"
            if not overrides:
                raise CompressionSpecError(f"{where} is empty")
            self._check_overrides(where, overrides, (ALL_MATRICES,) + MATRIX_TARGETS)
        self._check_statistics()
        self._check_settings()

    def _check_statistics(self) -> None:
        if self.statistics is None:
            return
        if not isinstance(self.statistics, str) or not self.statistics:
            raise CompressionSpecError(f"'statistics' must be the path of a statistics file, got {self.statistics!r}")
        if not METHODS[self.method].needs_statistics:
            needing = ", ".join(name for name, method in METHODS.items() if method.needs_statistics)
            raise CompressionSpecError(
                f"'statistics' is only used by methods that need input statistics ({needing}), not by {self.method!r}"
            )

    def _check_overrides(self, where: str, overrides: Mapping[str, RankSpec], allowed: Tuple[str, ...]) -> None:
        if not isinstance(overrides, Mapping):
            raise CompressionSpecError(f"{where} must be a dict of RankSpec, got {overrides!r}")
        for key, value in overrides.items():
            if key not in allowed:
                raise CompressionSpecError(f"unknown key {key!r} in {where}; expected one of {_quoted(allowed)}")
            if key in MATRIX_TARGETS and key not in self.targets():
                raise CompressionSpecError(
                    f"{where} for {key!r}, but target {self.target!r} compresses only {'+'.join(self.targets())}"
                )
            if not isinstance(value, RankSpec):
                raise CompressionSpecError(f"{where} for {key!r} must be a RankSpec, got {value!r}")

    def _check_settings(self) -> None:
        self.settings()  # checks max_iterations and tolerance
        if not is_int(self.seed) or self.seed < 0:
            raise CompressionSpecError(f"seed must be an int >= 0, got {self.seed!r}")
        object.__setattr__(self, "tolerance", float(self.tolerance))

    @classmethod
    def from_dict(cls, block: Mapping[str, Any]) -> "CompressionSpec":
        """
        Parse the JSON block shown in the class docstring.

        # Parameters

        block : `Mapping[str, Any]`

        # Returns

        spec : `CompressionSpec`
        """
        if not isinstance(block, Mapping):
            raise CompressionSpecError(f"compression block must be an object, got {type(block).__name__}")
        for key in block:
            if key not in _TOP_LEVEL_KEYS:
                raise CompressionSpecError(
                    f"unknown key {key!r} in compression block; expected keys {_quoted(_TOP_LEVEL_KEYS)}"
                )
        if "method" not in block:
            raise CompressionSpecError(f"compression block is missing 'method' (one of {', '.join(METHOD_NAMES)})")
        rank = RankSpec.from_dict(
            {kind: block[kind] for kind in RANK_KINDS if kind in block}, where="compression block"
        )
        per_target = {
            target: RankSpec.from_dict(block[target], where=f"override for {target!r}")
            for target in MATRIX_TARGETS
            if target in block
        }
        layers, directions = _parse_layers(block.get("layers", {}))
        return cls(
            method=block["method"],
            target=block.get("target", DEFAULT_TARGET),
            rank=rank,
            per_target=per_target,
            layers=layers,
            directions=directions,
            statistics=block.get("statistics"),
            **{name: block[name] for name in _SETTINGS if name in block},
        )

    def to_dict(self) -> Dict[str, Any]:
        """The canonical JSON-able block; `from_dict(spec.to_dict()) == spec`."""
        block: Dict[str, Any] = {"method": self.method, "target": self.target, **self.rank.to_dict()}
        for target in MATRIX_TARGETS:
            if target in self.per_target:
                block[target] = self.per_target[target].to_dict()
        layers = sorted(set(self.layers) | {layer for layer, _ in self.directions})
        if layers:
            block["layers"] = {str(layer): self._layer_to_dict(layer) for layer in layers}
        if self.statistics is not None:
            block["statistics"] = self.statistics
        block.update({"seed": self.seed, "max_iterations": self.max_iterations, "tolerance": self.tolerance})
        return block

    def targets(self) -> Tuple[str, ...]:
        """The compressed matrices of each cell: `("input",)`, `("recurrent",)` or both."""
        return TARGET_MATRICES[self.target]

    def settings(self) -> MethodSettings:
        """The method settings this block gives (the Semi-NMF stopping rule)."""
        return MethodSettings(max_iterations=self.max_iterations, tolerance=self.tolerance)

    def _layer_to_dict(self, layer: int) -> Dict[str, Any]:
        """One layer's overrides in the JSON form `_parse_layer` reads."""
        block = _overrides_to_dict(self.layers.get(layer, {}))
        for direction, name in enumerate(DIRECTIONS):
            if (layer, direction) in self.directions:
                block[name] = _overrides_to_dict(self.directions[(layer, direction)])
        return block

    def rank_spec_for(self, layer: int, target: str, direction: Optional[int] = None) -> Optional[RankSpec]:
        """
        The size of one matrix's compression, or `None` when `target` is left dense.

        # Parameters

        layer : `int`
            Layer index, from 0.
        target : `str`
            `"input"` or `"recurrent"`.
        direction : `int`, optional (default = `None`)
            0 forward, 1 backward; `None` ignores the per-direction overrides.

        # Returns

        spec : `Optional[RankSpec]`
            The most specific of: top-level rank, `per_target[target]`, `layers[layer]["all"]`,
            `layers[layer][target]`, `directions[(layer, direction)]["all"]`,
            `directions[(layer, direction)][target]`.
        """
        if target not in MATRIX_TARGETS:
            raise CompressionSpecError(
                f"unknown matrix target {target!r}; expected one of {_quoted(MATRIX_TARGETS)}"
            )
        if target not in self.targets():
            return None
        layer_overrides = self.layers.get(layer, {})
        spec = self.per_target.get(target, self.rank)
        spec = layer_overrides.get(ALL_MATRICES, spec)
        spec = layer_overrides.get(target, spec)
        direction_overrides = self.directions.get((layer, direction), {}) if direction is not None else {}
        spec = direction_overrides.get(ALL_MATRICES, spec)
        return direction_overrides.get(target, spec)

    def validate_layers(self, num_layers: int) -> None:
        """
        Check that every per-layer override names one of a biLM's `num_layers` layers.

        # Parameters

        num_layers : `int`
            Number of biLSTM layers.
        """
        for layer in sorted(set(self.layers) | {layer for layer, _ in self.directions}):
            if layer >= num_layers:
                raise CompressionSpecError(
                    f"compression override for layer {layer}, but the biLM has {num_layers} layers "
                    f"(0 to {num_layers - 1})"
                )

    def describe(self) -> str:
        """One line, e.g. `"svd on input+recurrent, rank 64; layer 1 recurrent: fraction 0.5"`."""
        parts = [f"{self.method} on {'+'.join(self.targets())}, {self.rank.describe()}"]
        parts += [
            f"{target}: {self.per_target[target].describe()}"
            for target in MATRIX_TARGETS
            if target in self.per_target
        ]
        for layer in sorted(self.layers):
            for key in (ALL_MATRICES,) + MATRIX_TARGETS:
                if key in self.layers[layer]:
                    where = f"layer {layer}" if key == ALL_MATRICES else f"layer {layer} {key}"
                    parts.append(f"{where}: {self.layers[layer][key].describe()}")
        for layer, direction in sorted(self.directions):
            overrides = self.directions[(layer, direction)]
            for key in (ALL_MATRICES,) + MATRIX_TARGETS:
                if key in overrides:
                    where = f"layer {layer} {DIRECTIONS[direction]}" + ("" if key == ALL_MATRICES else f" {key}")
                    parts.append(f"{where}: {overrides[key].describe()}")
        return "; ".join(parts)


def _layer_index(key: Any) -> int:
    """A layer key from JSON (`"1"`) or Python (`1`) as an int >= 0."""
    if is_int(key) and key >= 0:
        return key
    if isinstance(key, str) and key.isascii() and key.isdecimal():
        return int(key)
    raise CompressionSpecError(f"layer key must be a non-negative int, got {key!r}")


def _parse_overrides(where: str, block: Any) -> Dict[str, RankSpec]:
    """A layer's or layer-direction's sizes (`{"rank": 128, "recurrent": {"fraction": 0.5}}`) as a dict."""
    overrides: Dict[str, RankSpec] = {}
    if any(kind in block for kind in RANK_KINDS):
        sizes = {kind: block[kind] for kind in RANK_KINDS if kind in block}
        overrides[ALL_MATRICES] = RankSpec.from_dict(sizes, where=where)
    for target in MATRIX_TARGETS:
        if target in block:
            overrides[target] = RankSpec.from_dict(block[target], where=f"{where} for {target!r}")
    return overrides


def _check_block(where: str, block: Any, keys: Tuple[str, ...]) -> None:
    if not isinstance(block, Mapping) or not block:
        raise CompressionSpecError(f"{where} must be a non-empty object with keys from {_quoted(keys)}, got {block!r}")
    for key in block:
        if key not in keys:
            raise CompressionSpecError(f"unknown key {key!r} in {where}; expected keys {_quoted(keys)}")


def _parse_layer(layer: int, block: Any) -> Tuple[Dict[str, RankSpec], DirectionOverrides]:
    """One layer's JSON overrides (`{"rank": 128, "forward": {"input": {"rank": 12}}}`): its own and its directions'."""
    where = f"layer {layer} override"
    _check_block(where, block, _LAYER_KEYS)
    directions: DirectionOverrides = {}
    for direction, name in enumerate(DIRECTIONS):
        if name in block:
            direction_where = f"layer {layer} {name} override"
            _check_block(direction_where, block[name], _DIRECTION_KEYS)
            directions[(layer, direction)] = _parse_overrides(direction_where, block[name])
    return _parse_overrides(where, block), directions


def _parse_layers(block: Any) -> Tuple[Dict[int, Dict[str, RankSpec]], DirectionOverrides]:
    """The JSON `"layers"` object as `{layer index: overrides}` and `{(layer, direction): overrides}`."""
    if not isinstance(block, Mapping):
        raise CompressionSpecError(f"'layers' must be an object keyed by layer index, got {block!r}")
    layers: Dict[int, Dict[str, RankSpec]] = {}
    directions: DirectionOverrides = {}
    seen = set()
    for key, layer_block in block.items():
        layer = _layer_index(key)
        if layer in seen:
            raise CompressionSpecError(f"layer {layer} appears twice in 'layers'")
        seen.add(layer)
        overrides, layer_directions = _parse_layer(layer, layer_block)
        if overrides:
            layers[layer] = overrides
        directions.update(layer_directions)
    return layers, directions


def _overrides_to_dict(overrides: Mapping[str, RankSpec]) -> Dict[str, Any]:
    """Overrides in the JSON form `_parse_overrides` reads."""
    block: Dict[str, Any] = dict(overrides[ALL_MATRICES].to_dict()) if ALL_MATRICES in overrides else {}
    for target in MATRIX_TARGETS:
        if target in overrides:
            block[target] = overrides[target].to_dict()
    return block
