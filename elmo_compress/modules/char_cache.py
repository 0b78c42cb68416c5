"""
`CharCache`: ELMo's token representation (character CNN, highway layers, projection) depends only on
the token's characters, so a token seen again need not go through the character encoder. The cache
keeps the representations of at most `size` distinct tokens.

Where it plugs in: `CharacterEncoder.forward` (the biLM's `_token_embedder`) looks every row of
character ids up here, sentence boundary tokens and padding rows included, so the biLM's mask and
activations keep their shapes and meaning. The LSTM is untouched.

Two ways to fill it:

- as tokens come (the default): a least-recently-used cache; every batch encodes its distinct
  tokens that are not cached, in one product, and keeps them;
- `preload`: the caller's tokens, encoded up front; the cache then stays as it is (lookups read it,
  tokens not in it are encoded with their batch and not kept). A batch's result then depends only on
  the batch and the preloaded tokens, never on the batches before it. `compress-elmo embed` preloads
  the input's most frequent tokens, so that a run split into shards computes what one run computes.

Equal to the uncached encoder up to float32 rounding, not bit for bit: a float32 matrix product on
the CPU rounds a row differently depending on how many rows the product has and how the BLAS splits
them between threads (measured with MKL: products of 55 rows or fewer, the last rows of a partial row
block, and with 2 threads most row counts below 1024), and the cache encodes a token in another
product than the uncached encoder, which runs one over the batch's `batch_size * (timesteps + 2)`
rows. The difference is about 1e-6 of the values.
"""

from collections import OrderedDict
from typing import Callable, Dict, Hashable, List, Optional

import torch

from elmo_compress.errors import ElmoCompressError

# Tokens per encoder product when preloading.
PRELOAD_ROWS = 512

# (rows, max_characters) character ids -> (rows, dim) token vectors
TokenEncoder = Callable[[torch.Tensor], torch.Tensor]


class CharCache:
    """
    A bounded least-recently-used map from a token's character ids to its token vector, or, once
    preloaded, a fixed one. The vectors live in one tensor of at most `size` rows, grown as needed; a
    dict maps each token to its row.

    # Parameters

    size : `int`
        The most tokens kept (>= 1). Memory: `size * dim * 4` bytes for the vectors plus about 250
        bytes per token for the key and the bookkeeping.
    """

    def __init__(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ElmoCompressError(f"a character cache holds a number of tokens >= 1, got {size!r}")
        self.size = size
        self._rows: "OrderedDict[bytes, int]" = OrderedDict()  # token -> row of _vectors, oldest first
        self._vectors: Optional[torch.Tensor] = None  # shape (capacity, dim), capacity <= size
        self._weights: Optional[Hashable] = None
        self.frozen = False  # preloaded: lookups leave the cache as it is
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        """Forget every token, and the preloading (the hit and miss counts stay)."""
        self._rows.clear()
        self._vectors = None
        self._weights = None
        self.frozen = False

    def preload(self, character_ids: torch.Tensor, encode: TokenEncoder, weights: Hashable) -> None:
        """
        Empty the cache, encode the first `size` distinct rows of `character_ids`, shape
        (tokens, max_characters), in products of `PRELOAD_ROWS` rows, keep them, and keep the cache
        as it is from then on (until `clear`, or until `weights` changes, which empties it).
        """
        self.clear()
        self._weights = weights
        distinct: Dict[bytes, torch.Tensor] = {}
        for key, row in zip(_keys(character_ids), character_ids):
            if len(distinct) == self.size:
                break
            distinct.setdefault(key, row)
        keys, rows = list(distinct), list(distinct.values())
        for start in range(0, len(rows), PRELOAD_ROWS):
            with torch.no_grad():
                vectors = encode(torch.stack(rows[start : start + PRELOAD_ROWS]))
            self._insert(keys[start : start + PRELOAD_ROWS], vectors)
        self.frozen = True

    def lookup(self, character_ids: torch.Tensor, encode: TokenEncoder, weights: Hashable) -> torch.Tensor:
        """
        The token vectors of `character_ids`, shape (rows, max_characters), as `encode` computes them,
        shape (rows, dim). `encode` runs once, on the distinct rows not in the cache. `weights`
        identifies the encoder's weights: when it changes, the cache is emptied first.
        """
        if weights != self._weights:
            self.clear()
            self._weights = weights
        # shapes (distinct, max_characters) and (rows,)
        distinct, inverse = torch.unique(character_ids, dim=0, return_inverse=True)
        keys = _keys(distinct)
        rows = [self._rows.get(key) for key in keys]
        cached = [index for index, row in enumerate(rows) if row is not None]
        missing = [index for index, row in enumerate(rows) if row is None]
        self.hits += len(cached)
        self.misses += len(missing)

        computed = None
        if missing:
            with torch.no_grad():
                computed = encode(distinct[missing])
        reference = computed if computed is not None else self._vectors
        # shape (distinct, dim)
        vectors = reference.new_empty(len(keys), reference.size(1))
        if cached:
            vectors[cached] = self._vectors[[rows[index] for index in cached]]
            if not self.frozen:
                for index in cached:
                    self._rows.move_to_end(keys[index])
        if computed is not None:
            vectors[missing] = computed
            if not self.frozen:
                self._insert([keys[index] for index in missing], computed)
        # shape (rows, dim)
        return vectors[inverse]

    def _insert(self, keys: List[bytes], vectors: torch.Tensor) -> None:
        # A batch with more new tokens than the cache holds keeps its last `size` ones.
        keys, vectors = keys[-self.size :], vectors[-self.size :]
        self._reserve(min(self.size, len(self._rows) + len(keys)), vectors)
        rows = []
        for key in keys:
            # Rows are 0 .. len - 1: nothing is evicted before the cache is full, and once full every
            # new token takes the row of the least recently used one. Only older tokens are evicted,
            # since at most `size` new ones come in.
            row = len(self._rows) if len(self._rows) < self.size else self._rows.popitem(last=False)[1]
            self._rows[key] = row
            rows.append(row)
        self._vectors[rows] = vectors

    def _reserve(self, needed: int, like: torch.Tensor) -> None:
        """Room for `needed` vectors: the storage doubles as it fills, up to `size` rows."""
        capacity = 0 if self._vectors is None else self._vectors.size(0)
        if needed <= capacity:
            return
        grown = like.new_empty(min(self.size, max(needed, 2 * capacity)), like.size(1))
        if self._vectors is not None:
            grown[:capacity] = self._vectors
        self._vectors = grown


def _keys(character_ids: torch.Tensor) -> List[bytes]:
    """One dict key per row of character ids. The ids are below 263 (261 characters, +1 for
    padding), so int16 keys are exact."""
    return [row.tobytes() for row in character_ids.to(torch.int16).cpu().numpy()]
