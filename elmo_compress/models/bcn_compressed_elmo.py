from typing import Any, Optional

from allennlp.data import Vocabulary
from allennlp.models import Model
from allennlp_models.classification.models.biattentive_classification_network import (
    BiattentiveClassificationNetwork,
)

from elmo_compress.embedders import CompressedElmo


@Model.register("bcn_compressed_elmo")
class CompressedElmoBiattentiveClassificationNetwork(BiattentiveClassificationNetwork):
    """
    allennlp-models' biattentive classification network (`bcn`) with a compressed ELMo. BCN takes
    ELMo as its own `elmo` argument typed `Elmo`, which is not `Registrable`, so a config cannot
    swap in another class there; this model type annotates the argument as `CompressedElmo`, so the
    same `elmo` block plus a `compression` block (or a compressed weights file) builds it. Everything
    else, state-dict keys included, is BCN's: an archive trained with `bcn` loads into this type and
    its dense LSTM matrices are factorized at load time.

    Registered as a `Model` with name "bcn_compressed_elmo".

    # Parameters

    vocab : `Vocabulary`
        As for `bcn`.
    elmo : `CompressedElmo`, optional (default = `None`)
        The compressed ELMo (see `CompressedElmo` for its block).
    **kwargs : `Any`
        Every other argument of `bcn` (`text_field_embedder`, `embedding_dropout`,
        `pre_encode_feedforward`, `encoder`, `integrator`, `integrator_dropout`, `output_layer`,
        `use_input_elmo`, `use_integrator_output_elmo`, `initializer`, ...), unchanged.
    """

    def __init__(self, vocab: Vocabulary, elmo: Optional[CompressedElmo] = None, **kwargs: Any) -> None:
        super().__init__(vocab, elmo=elmo, **kwargs)
