// ESIM with ELMo on SNLI, as allennlp-models' training_config/pair_classification/esim_elmo.jsonnet
// (test accuracy 88.5 with the original ELMo). `small`: smaller encoders, for CPU runs on about a
// thousand pairs: learning rate 0.001 (not 0.0004), 10 epochs (not 3), and the learning rate halved
// only after 2 epochs without progress; as in the full config it stayed at chance (docs/small_configs.md).
local common = import '../common.libsonnet';

function(compressed, small) {
  local hidden = if small then 64 else 300,
  dataset_reader: {
    type: 'snli',
    tokenizer: { type: common.env('SNLI_TOKENIZER') },
    token_indexers: { elmo: { type: 'elmo_characters' } },
  },
  train_data_path: common.env('SNLI_TRAIN_DATA_PATH'),
  validation_data_path: common.env('SNLI_DEV_DATA_PATH'),
  // All three labels, even when a (small) data file lacks some, so that the output layer has 3 (the
  // vocabulary still orders labels by their frequency in the training data).
  vocabulary: { tokens_to_add: { labels: ['entailment', 'contradiction', 'neutral'] } },
  model: {
    type: 'esim',
    dropout: 0.5,
    text_field_embedder: { token_embedders: { elmo: common.elmo_token_embedder(compressed) } },
    encoder: { type: 'lstm', input_size: common.elmo_dim, hidden_size: hidden, num_layers: 1, bidirectional: true },
    matrix_attention: { type: 'dot_product' },
    projection_feedforward: { input_dim: 8 * hidden, hidden_dims: hidden, num_layers: 1, activations: 'relu' },
    inference_encoder: { type: 'lstm', input_size: hidden, hidden_size: hidden, num_layers: 1, bidirectional: true },
    output_feedforward: { input_dim: 8 * hidden, num_layers: 1, hidden_dims: hidden, activations: 'relu', dropout: 0.5 },
    output_logit: { input_dim: hidden, num_layers: 1, hidden_dims: 3, activations: 'linear' },
    initializer: {
      regexes: [
        ['.*linear_layers.*weight', { type: 'xavier_uniform' }],
        ['.*linear_layers.*bias', { type: 'zero' }],
        ['.*weight_ih.*', { type: 'xavier_uniform' }],
        ['.*weight_hh.*', { type: 'orthogonal' }],
        ['.*bias_ih.*', { type: 'zero' }],
        ['.*bias_hh.*', { type: 'lstm_hidden_bias' }],
      ],
    },
  },
  data_loader: { batch_sampler: { type: 'bucket', batch_size: 32 } },
  trainer: {
    optimizer: { type: 'adam', lr: if small then 0.001 else 0.0004 },
    checkpointer: { keep_most_recent_by_count: 2 },
    validation_metric: '+accuracy',
    num_epochs: if small then 10 else 75,
    grad_norm: 10.0,
    patience: 5,
    learning_rate_scheduler: { type: 'reduce_on_plateau', factor: 0.5, mode: 'max', patience: if small then 2 else 0 },
  },
}
