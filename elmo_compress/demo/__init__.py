"""
The end-to-end demo behind `make demo`: the language-model experiment on the shipped demo biLM
(`lm_experiment`), the matrix analysis, and the downstream experiment on a demo task (`downstream`).
"""
