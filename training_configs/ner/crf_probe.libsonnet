// The compression probe of the downstream demo: a CRF tagger whose ONLY input is ELMo's biLSTM.
// No word embedding, no character CNN of its own, and ELMo's scalar mix fixed (not trained) to leave
// out ELMo's layer 0 (the character CNN, which compression leaves alone): softmax([-1e4, 0, 0]) gives
// the two LSTM layers 0.5 each. A small biLSTM encoder reads those vectors, so everything the tagger
// knows about a token comes through the compressed LSTM matrices. On the demo NER task (code names
// vs. words) this is the configuration under which plain SVD at rank 8 shows up as a measurable loss
// (docs/downstream_demo.md). The training seeds are the config's; the demo varies them.
local common = import '../common.libsonnet';

function(compressed) {
  dataset_reader: {
    type: 'conll2003',
    tag_label: 'ner',
    coding_scheme: 'BIOUL',
    token_indexers: { elmo: { type: 'elmo_characters' } },
  },
  train_data_path: common.env('NER_TRAIN_DATA_PATH'),
  validation_data_path: common.env('NER_DEV_DATA_PATH'),
  model: {
    type: 'crf_tagger',
    label_encoding: 'BIOUL',
    dropout: 0.25,
    include_start_end_transitions: false,
    text_field_embedder: {
      token_embedders: {
        elmo: common.elmo_token_embedder(compressed) { scalar_mix_parameters: [-1e4, 0, 0] },
      },
    },
    encoder: { type: 'lstm', input_size: common.elmo_dim, hidden_size: 32, num_layers: 1, bidirectional: true },
  },
  data_loader: { batch_size: 16, shuffle: true },
  trainer: {
    optimizer: { type: 'adam', lr: 0.003 },
    checkpointer: { keep_most_recent_by_count: 1 },
    validation_metric: '+f1-measure-overall',
    num_epochs: 6,
    grad_norm: 5.0,
    patience: 6,
  },
  random_seed: 13370,
  numpy_seed: 1337,
  pytorch_seed: 133,
}
