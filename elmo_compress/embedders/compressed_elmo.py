from typing import Any, Dict, List

from allennlp.modules.elmo import Elmo

class CompressedElmo(Elmo):
    """
    allennlp's `Elmo` (scalar mixes over the biLM layers) on top of a compressed biLM. Use it where a
    model takes an `Elmo` object directly rather than a token embedder (BCN): a model type that
    annotates its `elmo` argument with `CompressedElmo` builds it from the same config block.

    # Parameters

    options_file : `str`, optional (default = `None`)
        ELMo JSON options file (or give `options` inline).
    weight_file : `str`, optional (default = `None`)
        An official ELMo hdf5 weight file (then `compression` is required) or a compressed weights
        file written by `compress-elmo compress`; leave it out with a `layout`.
    num_output_representations : `int`, optional (default = `1`)
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
        `RuntimeOptions.fast_path`: the fast biLSTM forward (False: allennlp's own loop).
    stateful : `bool`, optional (default = `True`)
        `RuntimeOptions.stateful`: carry LSTM states from batch to batch, as allennlp's ELMo does.
    int8 : `bool`, optional (default = `False`)
        `RuntimeOptions.int8`: dynamic int8 linear layers for CPU inference.
    char_cache : `int`, optional (default = `0`)
        `RuntimeOptions.char_cache`: keep the token representation (character CNN, highway,
        projection) of up to this many distinct tokens, so a token seen again skips the character
        encoder; 0: off. Off while the biLM is fine-tuned (bypassed when gradients are enabled and
        `requires_grad` is true); emptied when the weights change; with `int8` the character encoder stays float.
    options : `Dict[str, Any]`, optional (default = `None`)
        The contents of the options file, inline (instead of `options_file`).
    layout : `Dict[str, Any]`, optional (default = `None`)
        The exact stored form of every LSTM matrix (`ElmoWeights.layout`), without a weight file: the
        numbers come from the model's state dict (what `compress-elmo archive` writes).
    """

    def __init__(
        self,
        options_file: str = None,
        weight_file: str = None,
        num_output_representations: int = 1,
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
        char_cache: int = 0,
        options: Dict[str, Any] = None,
        layout: Dict[str, Any] = None,
    ) -> None:
        from elmo_compress.embedders.building import build_compressed_bilm  # see registration.py

        runtime = {"fast_path": fast_path, "stateful": stateful, "int8": int8, "char_cache": char_cache}
        bilm = build_compressed_bilm(
            options_file, weight_file, compression, requires_grad, vocab_to_cache, runtime, options, layout
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
