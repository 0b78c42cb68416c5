// See crf_tagger.libsonnet.
(import 'crf_tagger.libsonnet')(compressed=false, small=false)
