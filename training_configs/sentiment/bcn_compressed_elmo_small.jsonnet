// See bcn.libsonnet.
(import 'bcn.libsonnet')(compressed=true, small=true)
