// See bcn.libsonnet.
(import 'bcn.libsonnet')(compressed=false, small=true)
