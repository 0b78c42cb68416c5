"""
ELMo vectors for a text file, in allennlp 0.9's `allennlp elmo` layout (`compress-elmo embed`), and
the joining of a run split into shards (`compress-elmo merge`):

- `text`: the input, one sentence per line;
- `plan`: which sentences go into which batch, and which batches a shard computes (pure Python);
- `vectors_file`: the hdf5 layout, what a file was computed from, reading and writing (no torch);
- `embedding`: the biLM over the batches (`embed_file`);
- `merge`: shard files into the file one run writes (`merge_files`).

Nothing is imported here, so the command line can parse a shard spec without importing torch.
"""
