"""Image files for tests: good logos and every kind of bad one (used by the pipeline's
tests and by the submission form's)."""

import io
import random
import struct
import zlib

from PIL import Image


def encoded(image, kind="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def plain(kind="PNG", size=(128, 128), **options):
    return encoded(Image.new("RGB", size, "#4f46e5"), kind, **options)


def noise(size):
    """Random pixels: they do not compress, so the pixel data dominates the file."""
    data = random.Random(4).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def png_declaring(width, height):
    """A few dozen bytes whose valid IHDR claims width×height: a decompression bomb's header."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def truncated(data):
    return data[: len(data) // 2]


REFUSALS = {
    "text with a PNG header": (
        lambda: b"\x89PNG\r\n\x1a\n" + b"<?php system($_GET['c']); ?>" * 20,
        "logo_not_image",
        "not a PNG, JPEG or WebP image",
    ),
    "php named logo.png": (lambda: b"<?php echo 'hi'; ?>", "logo_not_image", "not a PNG, JPEG or WebP image"),
    "svg": (
        lambda: (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
            b"<script>alert(1)</script></svg>"
        ),
        "logo_format",
        "not SVG",
    ),
    "gif": (lambda: plain("GIF"), "logo_format", "not GIF"),
    "bmp": (lambda: plain("BMP"), "logo_format", "not BMP"),
    "tiff": (lambda: plain("TIFF"), "logo_format", "not TIFF"),
    "pdf": (lambda: plain("PDF"), "logo_format", "not PDF"),
    "3 MB valid png": (lambda: encoded(noise((1024, 1024))), "logo_too_large", "the limit is 2 MB"),
    "empty": (lambda: b"", "logo_empty", "empty"),
    "truncated png": (lambda: truncated(encoded(noise((256, 256)))), "logo_corrupt", "damaged or incomplete"),
    "truncated jpeg": (
        lambda: truncated(encoded(noise((256, 256)), "JPEG")),
        "logo_corrupt",
        "damaged or incomplete",
    ),
    "32x32": (lambda: plain(size=(32, 32)), "logo_too_small", "32×32 pixels; it must be at least 64×64"),
    "5000x100": (
        lambda: plain(size=(5000, 100)),
        "logo_too_big",
        "5000×100 pixels; it must be at most 4096×4096",
    ),
    "20000x20000 bomb": (lambda: png_declaring(20000, 20000), "logo_too_many_pixels", "at most 4096×4096"),
}
