"""
Registered model types that need a compressed ELMo where allennlp-models types the argument as `Elmo`.
"""

from elmo_compress.models.bcn_compressed_elmo import CompressedElmoBiattentiveClassificationNetwork
