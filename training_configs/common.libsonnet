// Pieces shared by the training configs. Paths and sizes come from environment variables;
// `elmo_compress` sets every unset one on import (the demo biLM and the demo tasks shipped in the
// package, see elmo_compress/config_defaults.py), so each config runs on a fresh machine. README
// lists the variables to set for the real experiment.
{
  env(name):: std.extVar(name),

  // Size of one ELMo representation: 2 x the LSTM projection of ELMO_OPTIONS_FILE (1024 for the
  // original ELMo, 128 for the demo biLM).
  elmo_dim:: std.parseInt(std.extVar('ELMO_DIM')),

  // The `elmo` block of allennlp-models' configs; compressed: plus the compression block from
  // ELMO_COMPRESSION (JSON, "null" when ELMO_WEIGHT_FILE is already a compressed weights file).
  elmo(compressed):: {
    options_file: std.extVar('ELMO_OPTIONS_FILE'),
    weight_file: std.extVar('ELMO_WEIGHT_FILE'),
    do_layer_norm: false,
    dropout: 0.0,
  } + (if compressed then { compression: std.parseJson(std.extVar('ELMO_COMPRESSION')) } else {}),

  elmo_token_embedder(compressed):: self.elmo(compressed) {
    type: if compressed then 'compressed_elmo' else 'elmo_token_embedder',
  },

  // A word embedding from a GloVe file named by the variable, or, when it is empty, a randomly
  // initialized trainable one of the same size (no download on machines without network).
  word_embedding(variable, dim, trainable):: {
    type: 'embedding',
    embedding_dim: dim,
  } + (
    if std.extVar(variable) == '' then { trainable: true }
    else { pretrained_file: std.extVar(variable), trainable: trainable }
  ),
}
