"""
The biLM as a language model: vocabulary, adaptive softmax, pretraining, perplexity, fine-tuning.
"""

from elmo_compress.lm.bundle import load_lm
from elmo_compress.lm.language_model import BidirectionalLm, LmLoss
from elmo_compress.lm.training import Perplexity, PretrainConfig, evaluate_perplexity, finetune, pretrain
from elmo_compress.lm.vocabulary import LmVocabulary
