from typing import Any, Dict, List, Mapping, Optional

from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.modules.elmo import Elmo

from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules import CompressedElmoBiLm


def _plain(value: Any) -> Any:
    """Nested allennlp `Params` -> plain dicts, so a compression block can be parsed and stored."""
    if isinstance(value, Params):
        return value.as_dict(quiet=True)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def build_compressed_bilm(
    options_file: str,
    weight_file: str,
    compression: Optional[Mapping[str, Any]],
    requires_grad: bool = False,
    vocab_to_cache: Optional[List[str]] = None,
    fast_path: bool = True,
    stateful: bool = True,
    int8: bool = False,
) -> CompressedElmoBiLm:
    """
    The biLM of a compressed ELMo: `weight_file` is a compressed weights file, or an official one
    together with a `compression` block. Bad input becomes one `ConfigurationError` line.
    `fast_path`, `stateful` and `int8` are `CompressedElmoBiLm`'s.
    """
    try:
        spec = CompressionSpec.from_dict(_plain(compression)) if compression is not None else None
        bilm = CompressedElmoBiLm(
            options_file,
            weight_file,
            requires_grad,
            vocab_to_cache,
            compression=spec,
            fast_path=fast_path,
            stateful=stateful,
            int8=int8,
        )
    except ElmoCompressError as error:
        raise ConfigurationError(str(error)) from None
    if not bilm.is_compressed:
        raise ConfigurationError(
            f"compressed ELMo needs a compression block or a compressed weights file, but {weight_file} "
            "is an uncompressed ELMo file and no compression was given (use elmo_token_embedder for plain ELMo)"
        )
    return bilm


class CompressedElmo(Elmo):
    """
    allennlp's `Elmo` (scalar mixes over the biLM layers) on top of a compressed biLM. Use it where a
    model takes an `Elmo` object directly rather than a token embedder (BCN): a model type that
    annotates its `elmo` argument with `CompressedElmo` builds it from the same config block.

    # Parameters

    options_file : `str`
        ELMo JSON options file.
    weight_file : `str`
        An official ELMo hdf5 weight file (then `compression` is required) or a compressed weights
        file written by `compress-elmo compress`.
    num_output_representations : `int`
        The number of ELMo representation to output with different linear weighted combination of
        the 3 layers (i.e., character-convnet output, 1st lstm output, 2nd lstm output).
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradients of the biLM parameters (factors included) for fine-tuning.
    do_layer_norm : `bool`, optional (default = `False`)
        Should we apply layer normalization (passed to `ScalarMix`)?
    dropout : `float`, optional (default = `0.5`)
        The dropout to be applied to the ELMo representations.
    vocab_to_cache : `List[str]`, optional (default = `None`)
        Words whose character CNN output is pre-computed and cached, as in allennlp's `Elmo`.
    keep_sentence_boundaries : `bool`, optional (default = `False`)
        If True, the representation of the sentence boundary tokens are not removed.
    scalar_mix_parameters : `List[float]`, optional (default = `None`)
        Fixed, pre-softmax scalar mix weights, as in allennlp's `Elmo`.
    compression : `Dict[str, Any]`, optional (default = `None`)
        A compression block (see `CompressionSpec`), e.g.
        `{"method": "svd", "target": "recurrent", "rank": 64}`.
    fast_path : `bool`, optional (default = `True`)
        Run the biLSTM with the fast forward (`FastElmoLstm`: input matrix applied to all timesteps
        at once, TorchScript timestep loop); outputs equal allennlp's to float rounding. False runs
        allennlp's own per-timestep loop.
    stateful : `bool`, optional (default = `True`)
        Carry LSTM states from batch to batch, as allennlp's ELMo does. False starts every batch
        from zero states, so a sentence's embedding does not depend on the batches before it.
    int8 : `bool`, optional (default = `False`)
        Run the biLM's linear layers (low-rank factors included) with PyTorch dynamic int8
        quantization, for CPU inference. Needs `requires_grad=False`; quantization happens at
        construction, so a model whose state dict holds float biLM weights does not load into it.
    """

    def __init__(
        self,
        options_file: str,
        weight_file: str,
        num_output_representations: int,
        requires_grad: bool = False,
        do_layer_norm: bool = False,
        dropout: float = 0.5,
        vocab_to_cache: List[str] = None,
        keep_sentence_boundaries: bool = False,
        scalar_mix_parameters: List[float] = None,
        compression: Dict[str, Any] = None,
        fast_path: bool = True,
        stateful: bool = True,
        int8: bool = False,
    ) -> None:
        bilm = build_compressed_bilm(
            options_file, weight_file, compression, requires_grad, vocab_to_cache, fast_path, stateful, int8
        )
        super().__init__(
            options_file=None,
            weight_file=None,
            num_output_representations=num_output_representations,
            requires_grad=requires_grad,
            do_layer_norm=do_layer_norm,
            dropout=dropout,
            vocab_to_cache=vocab_to_cache,
            keep_sentence_boundaries=keep_sentence_boundaries,
            scalar_mix_parameters=scalar_mix_parameters,
            module=bilm,
        )
