// See crf_probe.libsonnet.
(import 'crf_probe.libsonnet')(compressed=false)
