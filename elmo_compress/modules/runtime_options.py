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
        Run every linear layer of the biLM (LSTM matrices or their factors, highway, projection) with
        PyTorch dynamic int8 quantization, for CPU inference. Needs `requires_grad=False` and happens
        at construction, so a float state dict does not load into an int8 biLM afterwards.
    char_cache : `int`, optional (default = `0`)
        Keep the token representation (character CNN, highway layers, projection) of up to this many
        distinct tokens, least recently used out first, so that a token seen again skips the
        character encoder (`elmo_compress.modules.char_cache`). 0: no cache. Bypassed while the
        encoder is trained (gradients enabled and encoder parameters that require them); emptied when
        its weights change. Equal to the uncached encoder up to float32 rounding. Not with `int8`.
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
        if self.char_cache and self.int8:
            # Dynamic quantization scales each product by the range of all its rows, so a cached token
            # vector would depend on the tokens it was computed with.
            raise ElmoCompressError("runtime options char_cache and int8 cannot be combined: set char_cache to 0 with int8")


# allennlp's own per-timestep loop, stateful: bit for bit what `_ElmoBiLm` computes.
ALLENNLP_LOOP = RuntimeOptions(fast_path=False)
