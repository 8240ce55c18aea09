#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the nn command's fuzz harnesses:

    /usr/bin/python3 tests/cli/fuzz/make_corpus.py tests/cli/fuzz/corpus

corpus/csv   first byte = options (see fuzz_cli_csv.c), then a CSV file
corpus/npy   .npy files as numpy writes them, some gzip-compressed
corpus/idx   IDX files, some gzip-compressed
corpus/gzip  gzip streams: one member, two, with header fields
Each set holds good files of every accepted form and a few bad ones.
Needs numpy (Debian's python3-numpy)."""

import gzip
import io
import os
import struct
import sys

import numpy as np


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def csv_option(header, delim, mode, skip):
    return bytes([header | ({",": 0, ";": 1, "\t": 2, "|": 3}[delim] << 1)
                  | (mode << 3) | (skip << 5)])


def npy_bytes(a, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version)
    return buf.getvalue()


def idx_bytes(a, code):
    a = np.asarray(a)
    head = bytes([0, 0, code, a.ndim]) + b"".join(
        struct.pack(">I", d) for d in a.shape)
    dt = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
          0x0E: ">f8"}[code]
    return head + a.astype(dt).tobytes()


def gz(data, **kw):
    return gzip.compress(data, mtime=0, **kw)


def main(out):
    for d in ("csv", "npy", "idx", "gzip"):
        os.makedirs(os.path.join(out, d), exist_ok=True)

    csvs = {
        "header-label": (1, ",", 1, 0,
                         b"a,b,species\n5.1,3.5,setosa\n4.9,3.0,virginica\n"),
        "sklearn-skip": (0, ",", 1, 1,
                         b"3,2,setosa,versicolor\n5.1,3.5,0\n4.9,3.0,1\n"
                         b"4.7,3.2,2\n"),
        "crlf-bom": (1, ",", 2, 0,
                     b"\xef\xbb\xbfx,y\r\n1,2\r\n\r\n3,4\r\n"),
        "tab-quoted": (1, "\t", 1, 0,
                       b"x\t\"lab\tel\"\n1.5\t\"a \"\"b\"\"\"\n"
                       b"-2e3\t\"multi\nline\"\n"),
        "semicolon": (0, ";", 0, 0, b"1;2;3\n4;5;6\n"),
        "pipe-skip-odd": (1, "|", 3, 2, b"#\n#\na|b|c\n1|x|2\n3|y|4"),
        "cr-only": (1, ",", 2, 0, b"a,b\r1,2\r3,4\r"),
        "hex-and-spaces": (1, ",", 0, 0, b"a, b\n 0x1p3 ,\" 7 \"\n"),
        "bad-ragged": (1, ",", 0, 0, b"a,b\n1,2\n3\n"),
        "bad-nan": (1, ",", 0, 0, b"a,b\n1,nan\n"),
        "bad-quote": (1, ",", 0, 0, b"a,b\n1,\"2\n"),
        "bad-empty": (1, ",", 0, 0, b""),
        "bad-label": (1, ",", 1, 0, b"a,b\n1,\n"),
    }
    for name, (header, delim, mode, skip, text) in csvs.items():
        write(os.path.join(out, "csv", name),
              csv_option(header, delim, mode, skip) + text)

    rng = np.random.default_rng(17)
    npys = {
        "f4-2d": npy_bytes(rng.standard_normal((4, 3)).astype("<f4")),
        "f8-be-1d": npy_bytes(rng.standard_normal(5).astype(">f8")),
        "i1-3d": npy_bytes(np.arange(-4, 4, dtype="i1").reshape(2, 2, 2)),
        "u2": npy_bytes(np.array([0, 1, 65535], dtype="<u2")),
        "i8-labels": npy_bytes(np.array([0, 2, 1, 1], dtype="<i8")),
        "bool": npy_bytes(np.array([[True, False]])),
        "v2": npy_bytes(np.ones((2, 2), dtype="<f4"), version=(2, 0)),
        "v3": npy_bytes(np.ones(3, dtype="<f8"), version=(3, 0)),
        "gz-f4": gz(npy_bytes(np.eye(3, dtype="<f4"))),
        "bad-fortran": npy_bytes(np.asfortranarray(
            np.ones((2, 3), dtype="<f4"))),
        "bad-nan": npy_bytes(np.array([1.0, np.nan], dtype="<f4")),
        "bad-truncated": npy_bytes(np.ones((4, 4), dtype="<f4"))[:-5],
        "bad-dtype": npy_bytes(np.ones(2, dtype="<f2")),
    }
    for name, data in npys.items():
        write(os.path.join(out, "npy", name), data)

    images = rng.integers(0, 256, (3, 4, 4))
    idxs = {
        "u8-images": idx_bytes(images, 0x08),
        "u8-labels": idx_bytes([0, 9, 3], 0x08),
        "i8": idx_bytes([-1, 1], 0x09),
        "i16": idx_bytes([[-300, 300]], 0x0B),
        "i32": idx_bytes([1 << 20, -5], 0x0C),
        "f32": idx_bytes(rng.standard_normal((2, 3)), 0x0D),
        "f64": idx_bytes(rng.standard_normal(2), 0x0E),
        "gz-images": gz(idx_bytes(images, 0x08)),
        "gz-labels-two-members": gz(idx_bytes([1, 2, 3], 0x08)[:6]) +
        gz(idx_bytes([1, 2, 3], 0x08)[6:]),
        "bad-truncated": idx_bytes(images, 0x08)[:-3],
        "bad-extra": idx_bytes([1], 0x08) + b"\x00",
        "bad-type": b"\x00\x00\x07\x01\x00\x00\x00\x01\x00",
    }
    for name, data in idxs.items():
        write(os.path.join(out, "idx", name), data)

    text = b"the quick brown fox jumps over the lazy dog\n" * 20
    gzips = {
        "one-member": gz(text),
        "two-members": gz(text[:100]) + gz(text[100:]),
        "empty-content": gz(b""),
        "stored": gz(text, compresslevel=0),
        "bad-truncated": gz(text)[:-7],
        "bad-trailing": gz(text) + b"xx",
        "bad-crc": gz(text)[:-8] + b"\x00\x00\x00\x00" + gz(text)[-4:],
    }
    # a header with FNAME, FCOMMENT and FEXTRA, which gzip.compress omits
    body = gz(text)
    flags = 0x04 | 0x08 | 0x10
    hdr = bytes([0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 3])
    hdr += struct.pack("<H", 4) + b"ab\x00\x00" + b"name\x00" + b"note\x00"
    gzips["header-fields"] = hdr + body[10:]
    for name, data in gzips.items():
        write(os.path.join(out, "gzip", name), data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus"))
