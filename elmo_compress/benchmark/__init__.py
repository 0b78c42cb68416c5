"""
The CPU speed benchmark (`compress-elmo benchmark`): the fast biLSTM path, low rank and int8 against
stock allennlp, timed in the same run, next to the ideal speed-ups from multiply-add counts.
"""
