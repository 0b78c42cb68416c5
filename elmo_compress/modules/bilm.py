import logging
from typing import List, Optional

import torch
from allennlp.modules.elmo import _ElmoBiLm, _ElmoCharacterEncoder

from elmo_compress.errors import ElmoCompressError
from elmo_compress.factorize import CompressionSpec
from elmo_compress.modules.fast_lstm import FastElmoLstm
from elmo_compress.modules.quantize import quantize_bilm
from elmo_compress.modules.surgery import load_lstm_weights
from elmo_compress.weights import ElmoWeights, MatrixReport, compress_weights

logger = logging.getLogger(__name__)


class CompressedElmoBiLm(_ElmoBiLm):
    """
    allennlp's `_ElmoBiLm` (character CNN + biLSTM, same forward pass, same state-dict keys) built
    from an official ELMo weights file, from a compressed weights file, or from an official file
    compressed on the spot with `compression`.

    `_ElmoBiLm.__init__` is not called because it reads the dense LSTM matrices with
    `ElmoLstm.load_weights`, which a compressed file does not have; this constructor builds the
    same modules and loads the LSTM with `load_lstm_weights` instead. The character encoder is
    allennlp's own, loaded from the same file (a compressed file keeps those datasets unchanged).

    # Parameters

    options_file : `str`
        ELMo JSON options file.
    weight_file : `str`
        ELMo hdf5 weight file, official or compressed.
    requires_grad : `bool`, optional (default = `False`)
        If True, compute gradients of the biLM parameters (factors included) for fine-tuning.
    vocab_to_cache : `List[str]`, optional (default = `None`)
        Words whose character CNN output is computed once and cached, as in allennlp.
    compression : `CompressionSpec`, optional (default = `None`)
        Compress the (official) weights this way before building the modules.
    fast_path : `bool`, optional (default = `False`)
        Run the biLSTM with `FastElmoLstm`'s forward (input matrix hoisted out of the timestep loop,
        TorchScript loop; same outputs to float rounding, about 1e-7). False runs allennlp's
        per-timestep loop, bit for bit as `_ElmoBiLm`. The registered embedders default to True.
    stateful : `bool`, optional (default = `True`)
        Carry LSTM states from one batch to the next, as allennlp's ELMo does. False starts every
        batch from zero states (independent sentences at inference; allennlp has no such switch).
    int8 : `bool`, optional (default = `False`)
        Quantize every linear layer (LSTM matrices or their factors, highway, projection) to int8
        with PyTorch dynamic quantization, for CPU inference. Needs `requires_grad=False`, and is done
        at construction: a float state dict does not load into an int8 biLM afterwards.
    """

    def __init__(
        self,
        options_file: str,
        weight_file: str,
        requires_grad: bool = False,
        vocab_to_cache: Optional[List[str]] = None,
        compression: Optional[CompressionSpec] = None,
        fast_path: bool = False,
        stateful: bool = True,
        int8: bool = False,
    ) -> None:
        if int8 and requires_grad:
            raise ElmoCompressError("int8 quantization is for inference and cannot be combined with requires_grad")
        torch.nn.Module.__init__(self)
        weights = ElmoWeights.load(options_file, weight_file)
        self.compression_report: List[MatrixReport] = []
        if compression is not None:
            weights, self.compression_report = compress_weights(weights, compression)
        self.weights_metadata = weights.metadata
        self.is_compressed = weights.is_compressed

        self._token_embedder = _ElmoCharacterEncoder(options_file, weight_file, requires_grad=requires_grad)
        self._requires_grad = requires_grad
        if requires_grad and vocab_to_cache:
            logger.warning("You are fine tuning ELMo and caching char CNN word vectors; see allennlp's _ElmoBiLm.")
        self._word_embedding = None
        self._bos_embedding: torch.Tensor = None
        self._eos_embedding: torch.Tensor = None
        if vocab_to_cache:
            self.create_cached_cnn_embeddings(vocab_to_cache)

        options = weights.options
        self._elmo_lstm = FastElmoLstm(
            **options.elmo_lstm_arguments(),
            requires_grad=requires_grad,
            stateful=stateful,
            use_fast_path=fast_path,
        )
        load_lstm_weights(self._elmo_lstm, weights, requires_grad)
        if int8:
            quantize_bilm(self)
        self.num_layers = options.num_layers + 1
