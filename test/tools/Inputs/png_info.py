"""Prints 'PNG <width>x<height>' for a PNG file, or why it is not one."""
import struct
import sys
import zlib

data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
    sys.exit("not a PNG file")
width, height = struct.unpack(">II", data[16:24])
# Every chunk's CRC must hold, or viewers reject the file.
pos = 8
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    body = data[pos + 4:pos + 8 + length]
    (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
    if zlib.crc32(body) != crc:
        sys.exit("bad CRC in chunk %r" % body[:4])
    pos += 12 + length
print("PNG %dx%d" % (width, height))
