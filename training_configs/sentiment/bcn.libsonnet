// Biattentive classification network with ELMo on SST-5, as allennlp-models'
// training_config/classification/biattentive_classification_network_elmo.jsonnet (test accuracy
// 54.7 with the original ELMo). BCN takes `elmo` as its own argument, not as a token embedder; the
// compressed variant uses the model type `bcn_compressed_elmo`, whose `elmo` is a `CompressedElmo`.
// `small`: smaller layers, no subtrees and 3 epochs, for CPU runs.
local common = import '../common.libsonnet';

function(compressed, small) {
  local hidden = if small then 64 else 300,
  local reader(subtrees) = {
    type: 'sst_tokens',
    use_subtrees: subtrees,
    granularity: '5-class',
    token_indexers: { tokens: { type: 'single_id' }, elmo: { type: 'elmo_characters' } },
  },
  dataset_reader: reader(if small then false else common.env('SST_USE_SUBTREES') == 'true'),
  validation_dataset_reader: reader(false),
  train_data_path: common.env('SST_TRAIN_DATA_PATH'),
  validation_data_path: common.env('SST_DEV_DATA_PATH'),
  test_data_path: common.env('SST_TEST_DATA_PATH'),
  // All five labels, even when a (small) data file lacks some, so that the output layer has 5 (the
  // vocabulary still orders labels by their frequency in the training data).
  vocabulary: { tokens_to_add: { labels: ['0', '1', '2', '3', '4'] } },
  model: {
    type: if compressed then 'bcn_compressed_elmo' else 'bcn',
    text_field_embedder: {
      token_embedders: { tokens: common.word_embedding('GLOVE_840B_300D_PATH', 300, false) },
    },
    embedding_dropout: 0.5,
    pre_encode_feedforward: {
      input_dim: 300 + common.elmo_dim,
      num_layers: 1,
      hidden_dims: [hidden],
      activations: ['relu'],
      dropout: [0.25],
    },
    encoder: { type: 'lstm', input_size: hidden, hidden_size: hidden, num_layers: 1, bidirectional: true },
    integrator: { type: 'lstm', input_size: 6 * hidden, hidden_size: hidden, num_layers: 1, bidirectional: true },
    integrator_dropout: 0.1,
    elmo: common.elmo(compressed) { num_output_representations: 1 },
    use_input_elmo: true,
    use_integrator_output_elmo: false,
    output_layer: {
      input_dim: 8 * hidden,
      num_layers: 3,
      output_dims: if small then [64, 32, 5] else [1200, 600, 5],
      pool_sizes: 4,
      dropout: [0.2, 0.3, 0.0],
    },
  },
  data_loader: { batch_sampler: { type: 'bucket', batch_size: 100 } },
  trainer: {
    num_epochs: if small then 3 else 40,
    patience: 5,
    grad_norm: 5.0,
    validation_metric: '+accuracy',
    optimizer: { type: 'adam', lr: 0.001 },
  },
}
