"""The logo pipeline for founder uploads: inspect, re-encode, store.

Uploads are judged by their content, never by file name or Content-Type:

- `inspect_logo(file)` refuses anything that is not a sound PNG, JPEG or WebP of a
  sensible size, with one ValidationError code per reason (listed below);
- `process_logo(file)` inspects, then re-encodes the pixels into a fresh WebP
  (upright, metadata-free, at most 512 px) plus a 128 px thumbnail;
- `save_logo(file, storage)` stores both and returns the logo's name (`store_logo` stores
  what `process_logo` made, for a caller who first weighs it);
- `thumbnail_name(logo_name)` gives the thumbnail's name for a stored logo.

Refusal codes: logo_too_large, logo_empty, logo_not_image, logo_format,
logo_too_many_pixels, logo_too_small, logo_too_big, logo_corrupt.
"""

import math
import posixpath
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MIN_SIDE = 64
LOGO_MAX_SIDE = 4096
LOGO_MAX_PIXELS = LOGO_MAX_SIDE * LOGO_MAX_SIDE
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")  # the only Pillow parsers that ever see an upload
STORED_SIDE = 512
THUMB_SIDE = 128
STORED_FORMAT, STORED_EXTENSION = "WEBP", ".webp"
LOGO_DIR, THUMB_DIR = "logos", "thumbs"

# Other formats people upload, named in the refusal but never handed to a parser.
OTHER_FORMATS = {
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"%PDF-": "PDF",
}


@dataclass(frozen=True)
class LogoInfo:
    format: str  # "PNG", "JPEG" or "WEBP"
    width: int  # as stored in the file, before any EXIF rotation
    height: int
    size: int  # bytes


def inspect_logo(file):
    """Return a LogoInfo for an acceptable logo, or raise ValidationError. Leaves the file at 0."""
    return _open_logo(file)[1]


def process_logo(file):
    """Inspect, then re-encode: return (logo, thumbnail) ContentFiles named by us.

    The stored format is WebP: every browser we serve shows it, it keeps
    transparency (which JPEG cannot) and is much smaller than PNG. Uploads that
    were lossless (PNG, WebP) are kept lossless so flat colours and lettering stay
    crisp; photos sent as JPEG were lossy already and are saved lossy at quality 90.
    """
    image, info = _open_logo(file)
    upright = ImageOps.exif_transpose(image)
    clean = _fresh_pixels(upright)
    name = f"{LOGO_DIR}/{uuid.uuid4().hex}{STORED_EXTENSION}"
    lossless = info.format != "JPEG"
    logo = ContentFile(_encode(clean, STORED_SIDE, lossless), name=name)
    thumbnail = ContentFile(_encode(clean, THUMB_SIDE, lossless), name=thumbnail_name(name))
    return logo, thumbnail


def save_logo(file, storage=default_storage):
    """Inspect, re-encode and store the logo and its thumbnail; return the logo's stored name."""
    return store_logo(*process_logo(file), storage)


def store_logo(logo, thumbnail, storage=default_storage):
    """Store a logo and its thumbnail made by process_logo; return the logo's stored name.
    They take `logo.size + thumbnail.size` bytes in storage."""
    name = storage.save(logo.name, logo)
    try:
        storage.save(thumbnail_name(name), thumbnail)
    except BaseException:
        storage.delete(name)
        raise
    return name


def delete_logo(name, storage=default_storage):
    """Delete a stored logo and its thumbnail (what save_logo stored under `name`)."""
    for stored in (name, thumbnail_name(name)):
        storage.delete(stored)


def thumbnail_name(logo_name):
    """`logos/<stem>.webp` -> `logos/thumbs/<stem>.webp`."""
    folder, base = posixpath.split(logo_name)
    stem = posixpath.splitext(base)[0]
    return posixpath.join(folder, THUMB_DIR, stem + STORED_EXTENSION)


def _open_logo(file):
    """Every check, cheapest first; return the decoded image and its LogoInfo.

    Never image.close(): Pillow would close the caller's file along with it.
    """
    if file.size > LOGO_MAX_BYTES:  # before reading a single byte
        raise ValidationError(
            _("The logo is %(size)s MB; the limit is 2 MB."),
            code="logo_too_large",
            params={"size": f"{math.ceil(file.size / 1024 / 1024 * 10) / 10:.1f}"},
        )
    if not file.size:
        raise ValidationError(_("The logo file is empty."), code="logo_empty")
    try:
        file.seek(0)
        head = file.read(1024)  # to name a refused format; never parsed
        file.seek(0)
        with _strict_decoding():
            image = _read_header(file, head)
            info = LogoInfo(_format_of(image), image.width, image.height, file.size)
            _check_dimensions(image)
            try:
                image.load()  # the first and only time pixels are decoded
            except Exception:  # Pillow reports a bad stream with many exception types
                raise ValidationError(
                    _("The logo file is damaged or incomplete; please export it again."),
                    code="logo_corrupt",
                ) from None
        return image, info
    finally:
        file.seek(0)


@contextmanager
def _strict_decoding():
    """Refuse truncated files and turn Pillow's bomb warning into an error, here only."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _read_header(file, head):
    """Image.open reads the header only; no pixel is decoded here."""
    try:
        return Image.open(file, formats=LOGO_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception:  # not one of our formats, or a header Pillow cannot parse
        pass
    other = next((kind for magic, kind in OTHER_FORMATS.items() if head.startswith(magic)), None)
    if other is None and b"<svg" in head.lower():
        other = "SVG"
    if other:
        raise ValidationError(
            _("The logo must be PNG, JPEG or WebP, not %(kind)s."), code="logo_format", params={"kind": other}
        )
    raise ValidationError(_("This file is not a PNG, JPEG or WebP image."), code="logo_not_image")


def _format_of(image):
    # A camera's multi-picture JPEG (MPO) is a JPEG whose first picture is the one we keep.
    kind = "JPEG" if image.format == "MPO" else image.format
    if kind not in LOGO_FORMATS:  # unreachable through Image.open(formats=...), kept as a guard
        raise ValidationError(
            _("The logo must be PNG, JPEG or WebP, not %(kind)s."), code="logo_format", params={"kind": kind}
        )
    return kind


def _check_dimensions(image):
    width, height = image.size
    if width * height > LOGO_MAX_PIXELS:
        raise _too_many_pixels()
    if min(width, height) < LOGO_MIN_SIDE:
        raise ValidationError(
            _("The logo is %(w)s×%(h)s pixels; it must be at least 64×64."),
            code="logo_too_small",
            params={"w": width, "h": height},
        )
    if max(width, height) > LOGO_MAX_SIDE:
        raise ValidationError(
            _("The logo is %(w)s×%(h)s pixels; it must be at most 4096×4096."),
            code="logo_too_big",
            params={"w": width, "h": height},
        )


def _too_many_pixels():
    return ValidationError(
        _("The logo has more pixels than we can safely process; it must be at most 4096×4096."),
        code="logo_too_many_pixels",
    )


def _fresh_pixels(image):
    """A new image holding only the pixels: no EXIF, ICC profile, XMP or text chunks."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit grey: scale down rather than clip
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    mode = "RGBA" if image.has_transparency_data else "RGB"
    pixels = image.convert(mode)
    return Image.frombytes(mode, pixels.size, pixels.tobytes())


def _encode(image, side, lossless):
    """Shrink (never enlarge) to fit side×side, keeping the aspect ratio; return WebP bytes."""
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = BytesIO()
    copy.save(buffer, STORED_FORMAT, lossless=lossless, quality=90, method=6)
    return buffer.getvalue()
