"""
The cost next to the speed: the demo biLM's held-out perplexity at the same relative rank as a timed
row, relative to the uncompressed demo biLM (`x ppl`). The ELMo-size rows have random weights, whose
outputs say nothing about quality; the demo biLM (`elmo_compress/demo_bilm`, projection 64, with a
softmax) is compressed the same way at the same fraction of its projection dimension (ELMo rank 256,
128, 64 of 512 -> demo rank 32, 16, 8 of 64), run the same way (int8, fast path, the character
encoder float when the row caches it), and evaluated on the embedded corpus's held-out split with the
library behind `compress-elmo perplexity`.

How a compressed demo biLM is made is a recipe: a function `(dense demo weights, target, rank) ->
compressed weights`, looked up by name in `RECIPES` (`--perplexity-recipe`). `svd` is plain truncated
SVD. A better pipeline (calibration, allocation, distillation) plugs in with
`register_recipe("shrink", function)` where it is defined, or an entry in `RECIPES`; its perplexities are
cached per (recipe, setting, demo weights, held-out text) in the output folder's `perplexities.json`,
which a rerun into the same folder (`--force`) reads, so a slow recipe runs once.
"""

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional

from elmo_compress.benchmark.models import Setting
from elmo_compress.benchmark.timing import progress
from elmo_compress.constants import DEFAULT_CHAR_CACHE, DEMO_BILM_DIR, OPTIONS_NAME, WEIGHTS_NAME
from elmo_compress.errors import ElmoCompressError
from elmo_compress.weights import ElmoWeights, file_sha256

PERPLEXITY_NAME = "perplexities.json"

# (dense demo weights, target "recurrent" | "both", rank of the demo biLM) -> compressed weights
Recipe = Callable[[ElmoWeights, str, int], ElmoWeights]


def svd_recipe(dense: ElmoWeights, target: str, rank: int) -> ElmoWeights:
    """Plain truncated SVD of the target matrices at `rank`."""
    from elmo_compress.factorize import CompressionSpec
    from elmo_compress.weights import compress_weights

    return compress_weights(dense, CompressionSpec.from_dict({"method": "svd", "target": target, "rank": rank}))[0]


RECIPES: Dict[str, Recipe] = {"svd": svd_recipe}


def register_recipe(name: str, recipe: Recipe) -> None:
    """Make `recipe` available as `--perplexity-recipe name`."""
    RECIPES[name] = recipe


def check_recipe(name: str) -> None:
    if name != "none" and name not in RECIPES:
        raise ElmoCompressError(f"unknown perplexity recipe {name!r}; known: {', '.join(sorted(RECIPES))}, none")


@dataclass(frozen=True)
class DemoSetting:
    """What the demo biLM runs for one timed row: its compression at the demo's rank, and how it runs."""

    target: Optional[str]
    rank: Optional[int]
    int8: bool = False
    fast_path: bool = True  # matters with int8 only: the loop quantizes per timestep, the fast path all at once
    int8_encoder: bool = False  # int8 without the cache also quantizes the character encoder


def demo_setting(setting: Setting, projection_dim: int, demo_projection_dim: int) -> DemoSetting:
    """The demo biLM's counterpart of `setting` on a biLM with `projection_dim`: the same rank / projection."""
    rank = None
    if setting.rank is not None:
        if (setting.rank * demo_projection_dim) % projection_dim:
            raise ElmoCompressError(
                f"rank {setting.rank} of {projection_dim} has no demo rank of {demo_projection_dim} "
                "in the same ratio"
            )
        rank = setting.rank * demo_projection_dim // projection_dim
    if not setting.int8:  # float rows: loop and cache change values only by float32 rounding
        return DemoSetting(setting.target, rank)
    return DemoSetting(setting.target, rank, True, setting.loop != "allennlp", not setting.cache)


class DemoPerplexities:
    """
    Held-out perplexities of the demo biLM, computed when first asked for, kept per setting.

    # Parameters

    recipe : `str`
        A name in `RECIPES`.
    held_out : `List[List[str]]`
        The held-out sentences (the embedded corpus's held-out split, or its first sentences).
    cached_file : `str`, optional (default = `None`)
        A `perplexities.json` of an earlier run to reuse entries from (when it exists).
    """

    def __init__(self, recipe: str, held_out: List[List[str]], cached_file: Optional[str] = None) -> None:
        from elmo_compress.lm import LmVocabulary
        from elmo_compress.lm.bundle import VOCABULARY_NAME

        check_recipe(recipe)
        self.recipe = recipe
        self.held_out = held_out
        self.vocabulary = LmVocabulary.load(os.path.join(DEMO_BILM_DIR, VOCABULARY_NAME))
        self.dense = ElmoWeights.load(
            os.path.join(DEMO_BILM_DIR, OPTIONS_NAME), os.path.join(DEMO_BILM_DIR, WEIGHTS_NAME)
        )
        self.projection_dim = self.dense.options.projection_dim
        self.baseline = DemoSetting(None, None)
        self.identity = {
            "recipe": recipe,
            "demo_weights_sha256": file_sha256(os.path.join(DEMO_BILM_DIR, WEIGHTS_NAME)),
            "held_out_sha256": hashlib.sha256("\n".join(" ".join(s) for s in self.held_out).encode()).hexdigest(),
            "held_out_sentences": len(self.held_out),
        }
        self.entries: List[Dict[str, object]] = []
        if cached_file is not None and os.path.isfile(cached_file):
            self.entries = [entry for entry in _read_entries(cached_file) if _matches(entry, self.identity)]
        self.reused = len(self.entries)

    def perplexity(self, demo: DemoSetting) -> float:
        for entry in self.entries:
            if entry["setting"] == asdict(demo):
                return float(entry["perplexity"])
        value = self._evaluate(demo)
        self.entries.append({**self.identity, "setting": asdict(demo), "perplexity": value})
        return value

    def ratio(self, setting: Setting, projection_dim: int) -> float:
        """Perplexity of the demo counterpart of `setting` over the uncompressed demo biLM's."""
        demo = demo_setting(setting, projection_dim, self.projection_dim)
        return self.perplexity(demo) / self.perplexity(self.baseline)

    def _evaluate(self, demo: DemoSetting) -> float:
        from elmo_compress.lm import evaluate_perplexity, load_lm
        from elmo_compress.modules import RuntimeOptions

        progress(f"demo perplexity ({self.recipe}): {demo}")
        weights = self.dense if demo.rank is None else RECIPES[self.recipe](self.dense, demo.target, demo.rank)
        cache = DEFAULT_CHAR_CACHE if demo.int8 and not demo.int8_encoder else 0
        runtime = RuntimeOptions(fast_path=demo.fast_path, int8=demo.int8, char_cache=cache)
        lm, _ = load_lm(DEMO_BILM_DIR, weights=weights, runtime=runtime)
        return evaluate_perplexity(lm, self.held_out, self.vocabulary).mean

    def write(self, path: str) -> None:
        from elmo_compress.outputs import write_text

        write_text(path, json.dumps({"entries": self.entries}, indent=1) + "\n")


def _read_entries(path: str) -> List[Dict[str, object]]:
    try:
        with open(path, encoding="utf-8") as cached:
            entries = json.load(cached).get("entries", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [entry for entry in entries if isinstance(entry, dict) and "setting" in entry and "perplexity" in entry]


def _matches(entry: Dict[str, object], identity: Dict[str, object]) -> bool:
    return all(entry.get(name) == value for name, value in identity.items())
