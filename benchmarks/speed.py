"""
CPU speed benchmark of the fast biLSTM path, low rank and int8: the same as `compress-elmo benchmark`
(same arguments, e.g. `-o OUT_DIR`), runnable from a checkout with `python benchmarks/speed.py -o OUT_DIR`.
"""

import sys

from elmo_compress.commands import main

if __name__ == "__main__":
    sys.exit(main(["benchmark"] + sys.argv[1:]))
