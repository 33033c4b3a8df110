#!/usr/bin/python3
"""Makes the .npy/.npz fixtures of tests/test_npy.c with NumPy (the
independent writer). Run: /usr/bin/python3 tests/data/npy/make_fixtures.py
The values are simple closed forms; test_npy.c states the same forms."""
import io
import os
import zipfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(here, name)


def save_version(name, a, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, a, version=version)


# one file per supported dtype
np.save(path("f32_2x3.npy"), (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3))
np.save(path("f16_4.npy"), np.array([0.5, -2.0, 65504.0, 2.0 ** -24], dtype=np.float16))
np.save(path("i8_5.npy"), np.array([-128, -1, 0, 1, 127], dtype=np.int8))
np.save(path("u8_2x2.npy"), np.array([[0, 1], [254, 255]], dtype=np.uint8))
np.save(path("i16_3.npy"), np.array([-32768, 7, 32767], dtype=np.int16))
np.save(path("i32_2x1x2.npy"), np.array([-2**31, -5, 5, 2**31 - 1], dtype=np.int32).reshape(2, 1, 2))
np.save(path("i64_2.npy"), np.array([-2**63, 2**63 - 1], dtype=np.int64))
np.save(path("bool_4.npy"), np.array([True, False, False, True]))
np.save(path("scalar.npy"), np.float32(3.0))
np.save(path("empty_0x3.npy"), np.zeros((0, 3), dtype=np.float32))
np.save(path("rank8.npy"), np.arange(2, dtype=np.int8).reshape(1, 1, 1, 1, 1, 1, 1, 2))
# header versions 2.0 and 3.0 (same array as f32_2x3)
save_version("v2.npy", (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3), (2, 0))
save_version("v3.npy", (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3), (3, 0))

# refused: Fortran order, big-endian, float64, rank 9, structured
np.save(path("bad_fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(path("bad_bigendian.npy"), np.arange(3, dtype=">f4"))
np.save(path("bad_f64.npy"), np.arange(3, dtype=np.float64))
np.save(path("bad_rank9.npy"), np.zeros((1,) * 9, dtype=np.int8))
np.save(path("bad_structured.npy"), np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))

good = open(path("f32_2x3.npy"), "rb").read()
# truncated data, truncated header, trailing garbage, bad magic
open(path("bad_truncated_data.npy"), "wb").write(good[:-3])
open(path("bad_truncated_header.npy"), "wb").write(good[:40])
open(path("bad_trailing.npy"), "wb").write(good + b"\0\0\0\0")
open(path("bad_magic.npy"), "wb").write(b"\x93NUMPZ" + good[6:])
# a header with an extra key, and one whose shape promises more than present
open(path("bad_extra_key.npy"), "wb").write(
    good.replace(b"'shape': (2, 3), }", b"'shape': (2, 3), 'x': 1}", 1))
open(path("bad_shape_lies.npy"), "wb").write(
    good.replace(b"'shape': (2, 3), }", b"'shape': (9, 3), }", 1))
# a shape whose element count overflows 64 bits (2^62 * 4 elements * 4 bytes)
hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
pad = 64 - (10 + len(hdr) + 1) % 64
open(path("bad_overflow.npy"), "wb").write(
    b"\x93NUMPY\x01\x00" + (len(hdr) + pad + 1).to_bytes(2, "little") + hdr + b" " * pad + b"\n")

# .npz: stored (np.savez) and deflated (np.savez_compressed), two arrays each
x = (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3)
y = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
np.savez(path("stored.npz"), x=x, y=y)
np.savez_compressed(path("deflated.npz"), x=x, y=y)
stored = open(path("stored.npz"), "rb").read()
deflated = open(path("deflated.npz"), "rb").read()
# crc mismatch: flip a bit in x's first element (its .npy header is 128 bytes)
i = stored.index(b"\x93NUMPY") + 128 + 1
open(path("bad_crc.npz"), "wb").write(stored[:i] + bytes([stored[i] ^ 1]) + stored[i + 1:])
# truncated: the end-of-central-directory record is gone
open(path("bad_truncated.npz"), "wb").write(stored[: len(stored) - 30])
# deflate stream damaged in the middle (crc or inflate must catch it)
j = deflated.index(b"x.npy") + 5 + 20 + 30
open(path("bad_deflate.npz"), "wb").write(deflated[:j] + bytes([deflated[j] ^ 0xFF]) + deflated[j + 1:])
# a member that is not an array
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("readme.txt", "hello")
open(path("bad_member.npz"), "wb").write(buf.getvalue())
