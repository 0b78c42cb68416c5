"""
Downstream tasks: post-training compression of trained allennlp archives and the accuracy sweep.
"""
