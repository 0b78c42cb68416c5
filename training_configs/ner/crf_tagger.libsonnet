// CRF tagger with GloVe, ELMo and a character CNN on CoNLL-2003 NER, as allennlp-models'
// training_config/tagging/ner_elmo.jsonnet (test F1 92.51 with the original ELMo), except that
// validation reads NER_DEV_DATA_PATH (allennlp-models validates on the test file: set
// NER_DEV_DATA_PATH to it to reproduce that). `small`: smaller encoders, batches of 16 and 10 epochs,
// for CPU runs on about 1,000 sentences: with the full config's batches of 64 and 3 epochs (48
// optimizer steps on 1,000 sentences) the CRF tagger ends tagging everything O (docs/small_configs.md).
local common = import '../common.libsonnet';

function(compressed, small) {
  local characters = if small then 32 else 128,
  local hidden = if small then 64 else 200,
  dataset_reader: {
    type: 'conll2003',
    tag_label: 'ner',
    coding_scheme: 'BIOUL',
    token_indexers: {
      tokens: { type: 'single_id', lowercase_tokens: true },
      token_characters: { type: 'characters', min_padding_length: 3 },
      elmo: { type: 'elmo_characters' },
    },
  },
  train_data_path: common.env('NER_TRAIN_DATA_PATH'),
  validation_data_path: common.env('NER_DEV_DATA_PATH'),
  model: {
    type: 'crf_tagger',
    label_encoding: 'BIOUL',
    dropout: 0.5,
    include_start_end_transitions: false,
    text_field_embedder: {
      token_embedders: {
        tokens: common.word_embedding('GLOVE_50D_PATH', 50, true),
        elmo: common.elmo_token_embedder(compressed),
        token_characters: {
          type: 'character_encoding',
          // allennlp-models leaves vocab_namespace at its default, "tokens", which only works while
          // there are more words than characters; name the character namespace.
          embedding: { embedding_dim: 16, vocab_namespace: 'token_characters' },
          encoder: {
            type: 'cnn',
            embedding_dim: 16,
            num_filters: characters,
            ngram_filter_sizes: [3],
            conv_layer_activation: 'relu',
          },
        },
      },
    },
    encoder: {
      type: 'lstm',
      input_size: 50 + common.elmo_dim + characters,
      hidden_size: hidden,
      num_layers: if small then 1 else 2,
      dropout: if small then 0.0 else 0.5,
      bidirectional: true,
    },
    regularizer: { regexes: [['scalar_parameters', { type: 'l2', alpha: 0.1 }]] },
  },
  data_loader: { batch_size: if small then 16 else 64 },
  trainer: {
    optimizer: { type: 'adam', lr: 0.001 },
    checkpointer: { keep_most_recent_by_count: 3 },
    validation_metric: '+f1-measure-overall',
    num_epochs: if small then 10 else 75,
    grad_norm: 5.0,
    patience: 25,
  },
}
