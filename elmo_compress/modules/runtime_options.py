"""
`RuntimeOptions`: how a (compressed) biLM runs, as opposed to what it computes. One object, one
default, one description, used by `CompressedElmoBiLm` and the registered components.
"""

from dataclasses import dataclass

from elmo_compress.errors import ElmoCompressError


@dataclass(frozen=True)
class RuntimeOptions:
    """
    # Parameters

    fast_path : `bool`, optional (default = `True`)
        Run the biLSTM with `FastElmoLstm`'s forward: the input matrix applied to all timesteps in
        one product (a low-rank one as two products), a TorchScript timestep loop with the recurrent
        matrix, gates, clipping and projection; allennlp's sorting and state handling. Outputs equal
        allennlp's loop up to float32 rounding (the two sum in different orders). False runs
        allennlp's own per-timestep loop, bit for bit as `_ElmoBiLm`.
    stateful : `bool`, optional (default = `True`)
        Carry LSTM states from one batch to the next, as allennlp's ELMo does (so an embedding depends
        on the batches before it). False starts every batch from zero states: independent sentences.
    int8 : `bool`, optional (default = `False`)
        Run the biLM's linear layers (LSTM matrices or their factors; without `char_cache` also the
        character encoder's highway and projection) with PyTorch dynamic int8 quantization, for CPU
        inference. Needs `requires_grad=False` and happens at construction, so a float state dict
        does not load into an int8 biLM afterwards. With `char_cache`, the character encoder stays
        float: dynamic quantization scales a product's activations by the range of all its rows, so
        an int8 encoder's token vector would depend on the batch it was computed in and the cache
        would return another batch's rounding; a float encoder's vectors do not depend on the batch,
        and the cache makes the encoder's cost small. int8 with the cache then equals an int8 biLSTM
        on the float, uncached encoder up to float32 rounding.
    char_cache : `int`, optional (default = `0`)
        Keep the token representation (character CNN, highway layers, projection) of up to this many
        distinct tokens, least recently used out first, so that a token seen again skips the
        character encoder (`elmo_compress.modules.char_cache`). 0: no cache. Bypassed while the
        encoder is trained (gradients enabled and encoder parameters that require them); emptied when
        its weights change. Equal to the uncached encoder up to float32 rounding. With `int8`, the encoder stays float (see `int8`).
    """

    fast_path: bool = True
    stateful: bool = True
    int8: bool = False
    char_cache: int = 0

    def __post_init__(self) -> None:
        for name in ("fast_path", "stateful", "int8"):
            if not isinstance(getattr(self, name), bool):
                raise ElmoCompressError(f"runtime option {name} must be true or false, got {getattr(self, name)!r}")
        if isinstance(self.char_cache, bool) or not isinstance(self.char_cache, int) or self.char_cache < 0:
            raise ElmoCompressError(
                f"runtime option char_cache must be a number of tokens >= 0 (0: off), got {self.char_cache!r}"
            )


# allennlp's own per-timestep loop, stateful: bit for bit what `_ElmoBiLm` computes.
ALLENNLP_LOOP = RuntimeOptions(fast_path=False)
