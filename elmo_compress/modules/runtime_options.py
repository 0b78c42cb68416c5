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
    """

    fast_path: bool = True
    stateful: bool = True
    int8: bool = False

    def __post_init__(self) -> None:
        for name in ("fast_path", "stateful", "int8"):
            if not isinstance(getattr(self, name), bool):
                raise ElmoCompressError(f"runtime option {name} must be true or false, got {getattr(self, name)!r}")


# allennlp's own per-timestep loop, stateful: bit for bit what `_ElmoBiLm` computes.
ALLENNLP_LOOP = RuntimeOptions(fast_path=False)
