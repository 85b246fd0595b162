"""Writes .safetensors files for attn-run tests, and checks a param that
attn-run --write-inputs wrote back.

  write FILE NAME:DxD... [NAME:D...] [--shift=K]
                                       F32 tensors, element i = pattern(i + K)
  check FILE.bin COUNT                 FILE.bin holds COUNT floats of pattern
"""
import json
import struct
import sys


def pattern(i):
    return (i % 7) * 0.125 - 0.375


def write(path, specs, shift=0):
    header, data = {}, b""
    for spec in specs:
        name, dims = spec.split(":")
        shape = [int(d) for d in dims.split("x")]
        count = 1
        for d in shape:
            count *= d
        values = struct.pack("<%df" % count, *(pattern(i + shift) for i in range(count)))
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + len(values)]}
        data += values
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def check(path, count):
    with open(path, "rb") as f:
        values = struct.unpack("<%df" % count, f.read())
    bad = [i for i, v in enumerate(values) if v != pattern(i)]
    if bad:
        sys.exit("%s: element %d is %r, not %r" % (path, bad[0], values[bad[0]],
                                                  pattern(bad[0])))
    print("%s: %d floats as written" % (path, count))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        shifts = [a for a in sys.argv[3:] if a.startswith("--shift=")]
        write(sys.argv[2], [a for a in sys.argv[3:] if a not in shifts],
              int(shifts[-1].split("=")[1]) if shifts else 0)
    else:
        check(sys.argv[2], int(sys.argv[3]))
