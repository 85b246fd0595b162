"""Reads the glibc loader's LD_DEBUG=bindings logs of one attnc run and
counts symbol bindings between the two LLVMs in the process: the Halide
side (libattnc-halide, libHalide14, LLVM 14) and attnc's side (attnc,
libMLIR and LLVM 19). Both counts must be 0; other libraries (libstdc++,
libz3, ...) serve both sides and are not counted."""
import re
import sys

BINDING = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: \S+ symbol `([^']+)'")


def side(path):
    name = path.rsplit("/", 1)[-1]
    if "attnc-halide" in name or "Halide14" in name or "LLVM-14" in name:
        return "halide"
    if name.startswith(("libLLVM.so.19", "libMLIR.so.19")) or name in (
        "attnc", "attnc-unittests"):
        return "attnc"
    return None


counts = {("halide", "attnc"): [], ("attnc", "halide"): []}
total = 0
halide_loaded = False
for log in sys.argv[1:]:
    with open(log, errors="replace") as f:
        for line in f:
            m = BINDING.search(line)
            if not m:
                continue
            total += 1
            src, dst, symbol = side(m.group(1)), side(m.group(2)), m.group(3)
            if src == "halide" or dst == "halide":
                halide_loaded = True
            if src and dst and src != dst:
                counts[(src, dst)].append(symbol)

print("bindings read: %s" % ("many" if total > 10000 else total))
print("halide module loaded: %s" % ("yes" if halide_loaded else "no"))
for (src, dst), symbols in counts.items():
    print("%s side -> %s side: %d" % (src, dst, len(symbols)))
    for s in symbols[:10]:
        print("  " + s)
