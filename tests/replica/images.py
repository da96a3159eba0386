"""Tiny valid images for the replica's image host, deterministic per path (stdlib only).

Downloads must be real decodable images so that image pipelines (checksums, content-type checks, thumbnails) are
exercised; a solid colour derived from the path's hash keeps them distinct and reproducible.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

IMAGE_SIDE = 16  # pixels; a multiple of 8 so the JPEG is whole 8x8 blocks


def colour_for(path: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(path.encode("utf-8")).digest()
    return digest[0], digest[1], digest[2]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def solid_png(rgb: tuple[int, int, int], side: int = IMAGE_SIDE) -> bytes:
    """An 8-bit RGB PNG of one colour."""
    row = b"\x00" + bytes(rgb) * side  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(row * side, 9)) + _png_chunk(b"IEND", b""))


# Standard luminance DC Huffman table (JPEG Annex K.3): codes for DC categories 0..11.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
# AC table with a single symbol, end-of-block (0x00), coded as "0": a solid block has no AC coefficients.
_AC_BITS = (1,) + (0,) * 15
_AC_VALUES = (0x00,)


def _huffman_codes(bits, values) -> dict[int, tuple[int, int]]:
    """symbol -> (code, length), generated the canonical way (JPEG Annex C)."""
    codes, code, k = {}, 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.nbits = 0

    def write(self, value: int, length: int):
        for shift in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> shift) & 1)
            self.nbits += 1
            if self.nbits == 8:
                self._emit()

    def _emit(self):
        self.out.append(self.acc)
        if self.acc == 0xFF:
            self.out.append(0x00)  # byte stuffing
        self.acc, self.nbits = 0, 0

    def finish(self) -> bytes:
        if self.nbits:
            self.write((1 << (8 - self.nbits)) - 1, 8 - self.nbits)  # pad with 1-bits
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def solid_jpeg(rgb: tuple[int, int, int], side: int = IMAGE_SIDE, comment: str = "") -> bytes:
    """A baseline YCbCr JPEG of one colour: each 8x8 block is a DC coefficient and an end-of-block."""
    r, g, b = rgb
    ycc = (
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
    )
    # With an all-ones quantisation table, a flat block's DC coefficient is 8 * (sample - 128).
    dc_values = [max(-1023, min(1023, round(8 * (max(0.0, min(255.0, c)) - 128)))) for c in ycc]
    dc_codes, ac_codes = _huffman_codes(_DC_BITS, _DC_VALUES), _huffman_codes(_AC_BITS, _AC_VALUES)

    writer = _BitWriter()
    previous = [0, 0, 0]
    blocks = (side // 8) ** 2
    for _ in range(blocks):  # one MCU = one block per component (no subsampling)
        for component in range(3):
            diff = dc_values[component] - previous[component]
            previous[component] = dc_values[component]
            category = abs(diff).bit_length()
            code, length = dc_codes[category]
            writer.write(code, length)
            if category:
                writer.write(diff if diff > 0 else diff + (1 << category) - 1, category)
            code, length = ac_codes[0x00]
            writer.write(code, length)
    scan = writer.finish()

    jfif = b"JFIF\x00" + bytes((1, 1, 0)) + struct.pack(">HH", 1, 1) + bytes((0, 0))
    quant = bytes((0x00,)) + bytes([1] * 64)
    frame = struct.pack(">BHHB", 8, side, side, 3) + bytes((1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0))
    huffman = (bytes((0x00,)) + bytes(_DC_BITS) + bytes(_DC_VALUES)
               + bytes((0x10,)) + bytes(_AC_BITS) + bytes(_AC_VALUES))
    scan_header = bytes((3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0))
    parts = [b"\xff\xd8", _segment(0xE0, jfif)]
    if comment:
        parts.append(_segment(0xFE, comment.encode("utf-8")[:60000]))
    parts += [_segment(0xDB, quant), _segment(0xC0, frame), _segment(0xC4, huffman), _segment(0xDA, scan_header),
              scan, b"\xff\xd9"]
    return b"".join(parts)


def image_for_path(path: str) -> tuple[bytes, str] | None:
    """(bytes, content type) for an image path, or None for what the host does not serve (videos)."""
    lowered = path.lower()
    if lowered.endswith(".png"):
        return solid_png(colour_for(path)), "image/png"
    if lowered.endswith((".jpg", ".jpeg")) or "." not in lowered.rsplit("/", 1)[-1]:
        return solid_jpeg(colour_for(path), comment=f"gap replica {path}"), "image/jpeg"
    return None
