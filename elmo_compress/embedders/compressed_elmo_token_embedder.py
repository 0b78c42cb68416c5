from typing import Any, Dict, List

import torch
from allennlp.modules.token_embedders import ElmoTokenEmbedder, TokenEmbedder

from elmo_compress.embedders.compressed_elmo import CompressedElmo


@TokenEmbedder.register("compressed_elmo")
class CompressedElmoTokenEmbedder(ElmoTokenEmbedder):
    """
    `elmo_token_embedder` with a compressed biLM: each LSTM input matrix (W_i) and/or recurrent
    matrix (W_h) is a low-rank factor pair (SVD or Semi-NMF) or magnitude-pruned. State-dict keys
    match `elmo_token_embedder` except the compressed matrices, and a model trained with the plain
    embedder loads into this one (the dense matrices are compressed at load time).

    Registered as a `TokenEmbedder` with name "compressed_elmo".

    # Parameters

    options_file : `str`, optional (default = `None`)
        An ELMo JSON options file (or give `options` inline).
    weight_file : `str`, optional (default = `None`)
        An official ELMo hdf5 weight file (then `compression` is required) or a compressed weights
        file written by `compress-elmo compress`; leave it out with a `layout`.
    do_layer_norm : `bool`, optional (default = `False`)
        Should we apply layer normalization (passed to `ScalarMix`)?
    dropout : `float`, optional (default = `0.5`)
        The dropout value to be applied to the ELMo representations.
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradient of ELMo parameters (factors included) for fine tuning.
    projection_dim : `int`, optional (default = `None`)
        If given, project the ELMo embedding down to this dimension.
    vocab_to_cache : `List[str]`, optional (default = `None`)
        Words whose character convolutions are pre-computed and cached, as in `elmo_token_embedder`.
    scalar_mix_parameters : `List[float]`, optional (default = `None`)
        Fixed, pre-softmax weights for the layers, as in `elmo_token_embedder`.
    compression : `Dict[str, Any]`, optional (default = `None`)
        How to compress an official weight file, e.g.
        `{"method": "svd", "target": "recurrent", "rank": 64}`; or `{"energy": 0.9}` /
        `{"fraction": 0.25}` instead of `rank`, with optional per-target and per-layer overrides
        (see `elmo_compress.factorize.CompressionSpec`).
    fast_path : `bool`, optional (default = `True`)
        `RuntimeOptions.fast_path`: the fast biLSTM forward (False: allennlp's own loop).
    stateful : `bool`, optional (default = `True`)
        `RuntimeOptions.stateful`: carry LSTM states from batch to batch, as `elmo_token_embedder` does.
    int8 : `bool`, optional (default = `False`)
        `RuntimeOptions.int8`: dynamic int8 linear layers for CPU inference (a model archive whose
        state dict holds float biLM weights does not load into an int8 embedder).
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
        do_layer_norm: bool = False,
        dropout: float = 0.5,
        requires_grad: bool = False,
        projection_dim: int = None,
        vocab_to_cache: List[str] = None,
        scalar_mix_parameters: List[float] = None,
        compression: Dict[str, Any] = None,
        fast_path: bool = True,
        stateful: bool = True,
        int8: bool = False,
        char_cache: int = 0,
        options: Dict[str, Any] = None,
        layout: Dict[str, Any] = None,
    ) -> None:
        TokenEmbedder.__init__(self)  # ElmoTokenEmbedder.__init__ would load an uncompressed Elmo
        self._elmo = CompressedElmo(
            options_file,
            weight_file,
            1,
            do_layer_norm=do_layer_norm,
            dropout=dropout,
            requires_grad=requires_grad,
            vocab_to_cache=vocab_to_cache,
            scalar_mix_parameters=scalar_mix_parameters,
            compression=compression,
            fast_path=fast_path,
            stateful=stateful,
            int8=int8,
            char_cache=char_cache,
            options=options,
            layout=layout,
        )
        if projection_dim:
            self._projection = torch.nn.Linear(self._elmo.get_output_dim(), projection_dim)
            self.output_dim = projection_dim
        else:
            self._projection = None
            self.output_dim = self._elmo.get_output_dim()
