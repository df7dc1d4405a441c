"""The app package's two icons, checked with the standard library only: the PNG header, and every pixel of the outline."""

from __future__ import annotations

import struct
import zlib

COLOR_SIZE = (192, 192)
OUTLINE_SIZE = (32, 32)
# The outline icon is a white glyph on a transparent background: at least this share of its pixels
# must be fully transparent.
OUTLINE_MIN_TRANSPARENT = 0.25
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _PngError(ValueError):
    pass


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(_PNG_SIGNATURE):
        raise _PngError("is not a PNG file")
    chunks, offset = [], len(_PNG_SIGNATURE)
    while offset < len(data):
        if offset + 8 > len(data):
            raise _PngError("is truncated")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        crc = data[offset + 8 + length : offset + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise _PngError("is truncated")
        if zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            raise _PngError(f"has a corrupt {kind.decode('latin-1')} chunk (CRC mismatch)")
        chunks.append((kind, body))
        offset += 12 + length
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise _PngError("has no IHDR header")
    return chunks


def _png_header(data: bytes) -> dict[str, int]:
    """width, height, bit depth, colour type and interlace method from the IHDR chunk."""
    ihdr = _png_chunks(data)[0][1]
    width, height, depth, color_type, _compression, _filter, interlace = struct.unpack(">IIBBBBB", ihdr)
    return {"width": width, "height": height, "depth": depth, "color_type": color_type, "interlace": interlace}


def _png_rgba_rows(data: bytes) -> tuple[int, list[list[tuple[int, ...]]]]:
    """The pixels of a non-interlaced RGBA PNG (colour type 6, 8 or 16 bits): (the full-scale sample
    value, rows of (r, g, b, a)). Undoes the five PNG row filters."""
    chunks = _png_chunks(data)
    header = _png_header(data)
    if header["color_type"] != 6 or header["depth"] not in (8, 16) or header["interlace"] != 0:
        raise _PngError("is not a non-interlaced 8- or 16-bit RGBA PNG")
    width, height, step = header["width"], header["height"], header["depth"] // 8
    bpp = 4 * step  # bytes per pixel
    stride = width * bpp
    try:
        raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    except zlib.error as error:
        raise _PngError(f"has image data that does not decompress ({error})") from None
    if len(raw) < height * (stride + 1):
        raise _PngError("has less image data than its size says")
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind > 4:
            raise _PngError(f"uses an unknown row filter {kind}")
        for i in range(stride if kind else 0):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            if kind == 1:
                predictor = left
            elif kind == 2:
                predictor = up
            elif kind == 3:
                predictor = (left + up) // 2
            else:  # 4: Paeth
                up_left = previous[i - bpp] if i >= bpp else 0
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
            line[i] = (line[i] + predictor) & 0xFF
        samples = [int.from_bytes(line[i : i + step], "big") for i in range(0, stride, step)]
        rows.append([tuple(samples[x : x + 4]) for x in range(0, len(samples), 4)])
        previous = line
    return (1 << header["depth"]) - 1, rows


def check_icons(color: bytes, outline: bytes) -> list[str]:
    """Problems with the two icons: colour 192x192 PNG; outline 32x32 RGBA PNG, white on transparent."""
    problems: list[str] = []
    for label, data, size in (("color icon", color, COLOR_SIZE), ("outline icon", outline, OUTLINE_SIZE)):
        try:
            header = _png_header(data)
        except _PngError as error:
            problems.append(f"{label} {error}")
            continue
        if (header["width"], header["height"]) != size:
            problems.append(
                f"{label} is {header['width']}x{header['height']} pixels, it must be {size[0]}x{size[1]}"
            )
            continue  # its pixels are not worth decoding (and an outsized image would be slow to)
        if label == "outline icon":
            if header["color_type"] != 6:
                problems.append(
                    f"outline icon has PNG colour type {header['color_type']}: it must be RGBA "
                    "(colour type 6) so that its background can be transparent"
                )
                continue
            try:
                full, rows = _png_rgba_rows(data)
            except _PngError as error:
                problems.append(f"outline icon {error}")
                continue
            pixels = [pixel for row in rows for pixel in row]
            coloured = [(x, y) for y, row in enumerate(rows) for x, p in enumerate(row) if p[3] and p[:3] != (full,) * 3]
            transparent = sum(1 for p in pixels if p[3] == 0)
            if coloured:
                x, y = coloured[0]
                problems.append(
                    f"outline icon has {len(coloured)} pixel(s) that are neither white nor transparent "
                    f"(the first at x={x}, y={y}): it must be white on a transparent background"
                )
            if pixels and transparent < OUTLINE_MIN_TRANSPARENT * len(pixels):
                problems.append(
                    f"outline icon background is not transparent: only {transparent} of {len(pixels)} pixels are "
                    f"fully transparent (at least {OUTLINE_MIN_TRANSPARENT:.0%} must be)"
                )
    return problems
