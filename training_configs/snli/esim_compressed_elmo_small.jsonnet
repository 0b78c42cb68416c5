// See esim.libsonnet.
(import 'esim.libsonnet')(compressed=true, small=true)
