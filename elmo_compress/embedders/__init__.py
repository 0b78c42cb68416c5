"""
Registered AllenNLP components: the `compressed_elmo` token embedder and `CompressedElmo`. These
modules import only allennlp at the top; the biLM is built by `building.py` when a component is built.
"""

from elmo_compress.embedders.compressed_elmo import CompressedElmo
from elmo_compress.embedders.compressed_elmo_token_embedder import CompressedElmoTokenEmbedder
