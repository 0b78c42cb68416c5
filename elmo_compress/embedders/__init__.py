"""
Registered AllenNLP components: the `compressed_elmo` token embedder and `CompressedElmo`.
"""

from elmo_compress.embedders.compressed_elmo import CompressedElmo, build_compressed_bilm
from elmo_compress.embedders.compressed_elmo_token_embedder import CompressedElmoTokenEmbedder
