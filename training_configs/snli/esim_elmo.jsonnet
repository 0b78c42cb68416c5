// See esim.libsonnet.
(import 'esim.libsonnet')(compressed=false, small=false)
