// See crf_tagger.libsonnet.
(import 'crf_tagger.libsonnet')(compressed=true, small=false)
