import json

import pytest

from elmo_compress.errors import CompressionSpecError
from elmo_compress.constants import TARGET_CHOICES, TARGET_MATRICES
from elmo_compress.factorize import CompressionSpec, RankSpec

FULL_BLOCK = {
    "method": "svd",
    "target": "both",
    "rank": 64,
    "input": {"energy": 0.95},
    "recurrent": {"rank": 32},
    "layers": {"1": {"rank": 128, "recurrent": {"fraction": 0.5}}, "0": {"input": {"rank": 8}}},
    "seed": 3,
    "max_iterations": 50,
    "tolerance": 1e-4,
}


def test_targets() -> None:
    assert TARGET_MATRICES == {"input": ("input",), "recurrent": ("recurrent",), "both": ("input", "recurrent")}
    assert TARGET_CHOICES == ("input", "recurrent", "both")
    for target, matrices in TARGET_MATRICES.items():
        assert CompressionSpec.from_dict({"method": "svd", "target": target, "rank": 4}).targets() == matrices


def test_from_dict_reads_every_field() -> None:
    spec = CompressionSpec.from_dict(FULL_BLOCK)
    assert spec == CompressionSpec(
        method="svd",
        target="both",
        rank=RankSpec("rank", 64),
        per_target={"input": RankSpec("energy", 0.95), "recurrent": RankSpec("rank", 32)},
        layers={
            1: {"all": RankSpec("rank", 128), "recurrent": RankSpec("fraction", 0.5)},
            0: {"input": RankSpec("rank", 8)},
        },
        max_iterations=50,
        tolerance=1e-4,
        seed=3,
    )


def test_round_trip_through_json() -> None:
    spec = CompressionSpec.from_dict(FULL_BLOCK)
    canonical = spec.to_dict()
    assert CompressionSpec.from_dict(json.loads(json.dumps(canonical))) == spec
    assert list(canonical["layers"]) == ["0", "1"]
    assert canonical["layers"]["1"] == {"rank": 128, "recurrent": {"fraction": 0.5}}
    minimal = CompressionSpec.from_dict({"method": "semi_nmf", "target": "input", "fraction": 0.25})
    assert minimal.to_dict() == {
        "method": "semi_nmf",
        "target": "input",
        "fraction": 0.25,
        "seed": 0,
        "max_iterations": 300,
        "tolerance": 1e-5,
    }
    assert CompressionSpec.from_dict(minimal.to_dict()) == minimal


def test_defaults() -> None:
    spec = CompressionSpec.from_dict({"method": "prune", "energy": 0.9})
    assert spec.target == "both"
    assert (spec.seed, spec.max_iterations, spec.tolerance) == (0, 300, 1e-5)
    assert spec.per_target == {} and spec.layers == {}
    hash(spec)


def test_layer_keys_may_be_ints() -> None:
    spec = CompressionSpec.from_dict({"method": "svd", "rank": 4, "layers": {1: {"rank": 2}}})
    assert spec.layers == {1: {"all": RankSpec("rank", 2)}}


def test_precedence_of_overrides() -> None:
    spec = CompressionSpec.from_dict(FULL_BLOCK)
    # layer 0: per-target overrides, then layer 0's own input override
    assert spec.rank_spec_for(0, "input") == RankSpec("rank", 8)
    assert spec.rank_spec_for(0, "recurrent") == RankSpec("rank", 32)
    # layer 1: its "all" rank beats per-target; its recurrent override beats "all"
    assert spec.rank_spec_for(1, "input") == RankSpec("rank", 128)
    assert spec.rank_spec_for(1, "recurrent") == RankSpec("fraction", 0.5)
    # layer 2 has no overrides: per-target ones apply
    assert spec.rank_spec_for(2, "input") == RankSpec("energy", 0.95)
    plain = CompressionSpec.from_dict({"method": "svd", "rank": 16})
    assert plain.rank_spec_for(0, "input") == plain.rank_spec_for(5, "recurrent") == RankSpec("rank", 16)


def test_uncompressed_target_has_no_rank_spec() -> None:
    spec = CompressionSpec.from_dict(
        {"method": "svd", "target": "recurrent", "rank": 16, "layers": {"0": {"rank": 4}}}
    )
    assert spec.rank_spec_for(0, "input") is None
    assert spec.rank_spec_for(0, "recurrent") == RankSpec("rank", 4)
    with pytest.raises(CompressionSpecError, match="unknown matrix target 'hidden'"):
        spec.rank_spec_for(0, "hidden")


def test_validate_layers() -> None:
    spec = CompressionSpec.from_dict({"method": "svd", "rank": 16, "layers": {"2": {"rank": 4}}})
    spec.validate_layers(3)
    with pytest.raises(CompressionSpecError, match=r"override for layer 2, but the biLM has 2 layers \(0 to 1\)"):
        spec.validate_layers(2)


def test_describe() -> None:
    assert CompressionSpec.from_dict({"method": "svd", "rank": 64}).describe() == "svd on input+recurrent, rank 64"
    assert (
        CompressionSpec.from_dict({"method": "semi_nmf", "target": "input", "energy": 0.9}).describe()
        == "semi_nmf on input, energy 0.9"
    )
    assert CompressionSpec.from_dict(FULL_BLOCK).describe() == (
        "svd on input+recurrent, rank 64; input: energy 0.95; recurrent: rank 32; "
        "layer 0 input: rank 8; layer 1: rank 128; layer 1 recurrent: fraction 0.5"
    )


def with_changes(**changes):
    block = {"method": "svd", "target": "both", "rank": 64}
    block.update(changes)
    return {key: value for key, value in block.items() if value is not None}


@pytest.mark.parametrize(
    "block, message",
    [
        (
            with_changes(method="tucker"),
            r"unknown compression method 'tucker'; expected one of svd, semi_nmf, prune",
        ),
        (with_changes(method=None), r"missing 'method'"),
        (
            with_changes(target="hidden"),
            r"unknown compression target 'hidden'; expected one of input, recurrent, both",
        ),
        (
            with_changes(rank=None),
            r"compression block needs exactly one of 'rank', 'fraction', 'energy', got none",
        ),
        (with_changes(energy=0.9), r"got 'rank' and 'energy'"),
        (with_changes(rank=0), r"rank must be an int >= 1, got 0"),
        (with_changes(rank=None, fraction=1.5), r"fraction must be a number in \(0, 1\], got 1.5"),
        (with_changes(ranks=3), r"unknown key 'ranks' in compression block"),
        (with_changes(layers={"x": {"rank": 3}}), r"layer key must be a non-negative int, got 'x'"),
        (with_changes(layers={"-1": {"rank": 3}}), r"layer key must be a non-negative int, got '-1'"),
        (with_changes(layers={-1: {"rank": 3}}), r"layer key must be a non-negative int, got -1"),
        (with_changes(layers={"1": {"rank": 3}, 1: {"rank": 4}}), r"layer 1 appears twice"),
        (with_changes(layers={"1": {}}), r"layer 1 override must be a non-empty object"),
        (with_changes(layers={"1": 32}), r"layer 1 override must be a non-empty object"),
        (with_changes(layers={"1": {"hidden": {"rank": 3}}}), r"unknown key 'hidden' in layer 1 override"),
        (with_changes(layers={"1": {"all": {"rank": 3}}}), r"unknown key 'all' in layer 1 override"),
        (
            with_changes(layers={"1": {"input": {"rank": 3, "energy": 0.5}}}),
            r"layer 1 override for 'input' needs exactly one",
        ),
        (with_changes(layers={"1": {"rank": 3, "fraction": 0.5}}), r"layer 1 override needs exactly one"),
        (with_changes(layers=[{"rank": 3}]), r"'layers' must be an object keyed by layer index"),
        (with_changes(input={"rank": -2}), r"rank must be an int >= 1, got -2"),
        (with_changes(input=16), r"override for 'input' must be an object"),
        (with_changes(input={"size": 16}), r"unknown key 'size' in override for 'input'"),
        (
            with_changes(target="input", recurrent={"rank": 8}),
            r"override for 'recurrent', but target 'input' compresses only input",
        ),
        (
            with_changes(target="recurrent", layers={"0": {"input": {"rank": 8}}}),
            r"layer 0 override for 'input', but target 'recurrent' compresses only recurrent",
        ),
        (with_changes(seed="0"), r"seed must be an int >= 0, got '0'"),
        (with_changes(seed=-1), r"seed must be an int >= 0, got -1"),
        (with_changes(max_iterations=0), r"max_iterations must be an int >= 1, got 0"),
        (with_changes(max_iterations=True), r"max_iterations must be an int >= 1, got True"),
        (with_changes(tolerance="small"), r"tolerance must be a finite number >= 0, got 'small'"),
        (with_changes(tolerance=-1.0), r"tolerance must be a finite number >= 0, got -1.0"),
    ],
)
def test_bad_blocks_are_rejected(block, message: str) -> None:
    with pytest.raises(CompressionSpecError, match=message):
        CompressionSpec.from_dict(block)


def test_block_must_be_a_mapping() -> None:
    with pytest.raises(CompressionSpecError, match="compression block must be an object, got list"):
        CompressionSpec.from_dict(["svd"])


def test_direct_construction_is_validated() -> None:
    with pytest.raises(CompressionSpecError, match="unknown key 'hidden' in override"):
        CompressionSpec("svd", "both", RankSpec("rank", 4), per_target={"hidden": RankSpec("rank", 2)})
    with pytest.raises(CompressionSpecError, match="must be a RankSpec"):
        CompressionSpec("svd", "both", RankSpec("rank", 4), per_target={"input": 2})
    with pytest.raises(CompressionSpecError, match="layer 3 override is empty"):
        CompressionSpec("svd", "both", RankSpec("rank", 4), layers={3: {}})


DIRECTION_BLOCK = {
    "method": "asvd",
    "rank": 8,
    "layers": {
        "0": {"rank": 6, "forward": {"input": {"rank": 12}, "recurrent": {"rank": 4}}, "backward": {"rank": 5}},
        "1": {"backward": {"recurrent": {"fraction": 0.25}}},
    },
    "statistics": "statistics.npz",
}


def test_per_direction_overrides_take_precedence_and_round_trip() -> None:
    spec = CompressionSpec.from_dict(DIRECTION_BLOCK)
    assert spec.rank_spec_for(0, "input", 0) == RankSpec("rank", 12)
    assert spec.rank_spec_for(0, "recurrent", 0) == RankSpec("rank", 4)
    assert spec.rank_spec_for(0, "input", 1) == spec.rank_spec_for(0, "recurrent", 1) == RankSpec("rank", 5)
    assert spec.rank_spec_for(0, "input") == RankSpec("rank", 6)  # no direction: the layer's own size
    assert spec.rank_spec_for(1, "recurrent", 1) == RankSpec("fraction", 0.25)
    assert spec.rank_spec_for(1, "recurrent", 0) == RankSpec("rank", 8)
    assert spec.layers == {0: {"all": RankSpec("rank", 6)}}
    assert CompressionSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["layers"]["1"] == {"backward": {"recurrent": {"fraction": 0.25}}}
    assert "layer 0 forward input: rank 12" in spec.describe() and spec.statistics == "statistics.npz"


@pytest.mark.parametrize(
    "layers, message",
    [
        ({"0": {"forward": {}}}, "layer 0 forward override must be a non-empty object"),
        ({"0": {"forward": {"hidden": {"rank": 2}}}}, "unknown key 'hidden' in layer 0 forward override"),
        ({"0": {"forward": {"backward": {"rank": 2}}}}, "unknown key 'backward' in layer 0 forward override"),
        ({"0": {"sideways": {"rank": 2}}}, "unknown key 'sideways' in layer 0 override"),
        ({"0": {"forward": {"rank": 0}}}, "rank must be an int >= 1, got 0"),
    ],
)
def test_bad_direction_overrides_are_one_line_errors(layers, message: str) -> None:
    with pytest.raises(CompressionSpecError, match=message):
        CompressionSpec.from_dict({"method": "svd", "rank": 4, "layers": layers})


def test_direction_overrides_name_layers_of_the_bilm() -> None:
    spec = CompressionSpec.from_dict({"method": "svd", "rank": 4, "layers": {"3": {"forward": {"rank": 2}}}})
    with pytest.raises(CompressionSpecError, match="override for layer 3, but the biLM has 2 layers"):
        spec.validate_layers(2)


def test_statistics_key_is_checked() -> None:
    with pytest.raises(CompressionSpecError, match="'statistics' is only used by methods that need input statistics \\(asvd\\), not by 'svd'"):
        CompressionSpec.from_dict({"method": "svd", "rank": 4, "statistics": "s.npz"})
    with pytest.raises(CompressionSpecError, match="'statistics' must be the path of a statistics file"):
        CompressionSpec.from_dict({"method": "asvd", "rank": 4, "statistics": 3})
