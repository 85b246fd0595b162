"""Runs `attnc --emit=ast` on prefixes of a model file, as if the file had
been cut off there: each must be rejected with a positioned error (exit 1)
or, for the whole file, accepted (exit 0). Never a crash or an internal
error. Prints one summary line for FileCheck.

usage: every_prefix.py ATTNC MODEL.attn WORKDIR STRIDE
"""
import os
import re
import subprocess
import sys

attnc, model, work, stride = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
text = open(model, "rb").read()
os.makedirs(work, exist_ok=True)
path = os.path.join(work, "cut.attn")
cuts = list(range(0, len(text), stride)) + [len(text)]
rejected = 0
for n in cuts:
    with open(path, "wb") as f:
        f.write(text[:n])
    run = subprocess.run([attnc, "--emit=ast", path, "-o", os.devnull],
                         capture_output=True, text=True)
    if n == len(text):
        if run.returncode != 0:
            sys.exit("the whole file was rejected:\n" + run.stderr)
        continue
    if run.returncode != 1 or not re.search(r"cut\.attn:\d+:\d+: error: ", run.stderr):
        sys.exit("cut at byte %d: exit %d\n%s" % (n, run.returncode, run.stderr))
    rejected += 1
print("%d cuts rejected with a positioned error, the whole file accepted" % rejected)
