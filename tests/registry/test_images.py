"""The logo pipeline: what founders may upload and what we store (registry/images.py)."""

import io
import warnings
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import GifImagePlugin, Image, ImageCms, ImageFile
from PIL.PngImagePlugin import PngInfo

from registry.images import (
    LOGO_MAX_BYTES,
    inspect_logo,
    process_logo,
    save_logo,
    thumbnail_name,
)
from registry.validators import validate_logo
from tests.imagefiles import REFUSALS, encoded, noise, plain, png_declaring, truncated

RED, WHITE, BLUE = (255, 0, 0), (255, 255, 255), (0, 0, 255)

# -- Builders -------------------------------------------------------------------------


def upload(data, name="logo.png", content_type="image/png"):
    """What a founder sends; the name and Content-Type are deliberately ignored."""
    return SimpleUploadedFile(name, data, content_type=content_type)


def refusal(file):
    with pytest.raises(ValidationError) as caught:
        inspect_logo(file)
    return caught.value


def text_of(error):
    return str(error.message) % (error.params or {})


def opened(content):
    content.seek(0)
    return Image.open(io.BytesIO(content.read()))


class Decoded(BaseException):
    """Raised by a patched load(): not an Exception, so nothing on the way can swallow it."""


@pytest.fixture
def no_decoding(monkeypatch):
    def load(self):
        raise Decoded

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    monkeypatch.setattr(Image.Image, "load", load)


# -- What is accepted ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_it_accepts_png_jpeg_and_webp(kind):
    file = upload(plain(kind, size=(300, 200)), name="logo.gif", content_type="image/gif")
    info = inspect_logo(file)
    assert (info.format, info.width, info.height, info.size) == (kind, 300, 200, file.size)
    assert file.tell() == 0


def test_it_accepts_a_multi_picture_jpeg_as_a_jpeg():
    first, second = Image.new("RGB", (100, 80), RED), Image.new("RGB", (100, 80), BLUE)
    file = upload(encoded(first, "MPO", save_all=True, append_images=[second]))
    assert inspect_logo(file).format == "JPEG"
    logo, _ = process_logo(file)
    assert opened(logo).getpixel((50, 40))[0] > 200  # the first picture, red


def half_transparent(mode="RGBA"):
    """Left half fully transparent, right half opaque red."""
    if mode == "P":
        image = Image.new("P", (100, 100), 1)
        image.putpalette([*WHITE, *RED])
        image.paste(0, (0, 0, 50, 100))
        return image
    image = Image.new("RGBA", (100, 100), (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, 50, 100))
    return image


TRANSPARENT = {
    "png": lambda: encoded(half_transparent(), "PNG"),
    "palette png": lambda: encoded(half_transparent("P"), "PNG", transparency=0),
    "webp": lambda: encoded(half_transparent(), "WEBP", lossless=True),
}


@pytest.mark.parametrize("build", TRANSPARENT.values(), ids=TRANSPARENT.keys())
def test_it_keeps_transparency(build):
    for stored in map(opened, process_logo(upload(build()))):
        width, height = stored.size
        assert stored.mode == "RGBA"
        assert stored.getpixel((width // 4, height // 2))[3] == 0
        assert stored.getpixel((width * 3 // 4, height // 2)) == (*RED, 255)


def test_a_jpeg_is_stored_without_an_alpha_channel():
    logo, _ = process_logo(upload(plain("JPEG")))
    assert opened(logo).mode == "RGB"


def test_16_bit_grey_is_scaled_not_clipped_to_white():
    grey = Image.new("I;16", (100, 100), 0x8000)
    logo, _ = process_logo(upload(encoded(grey)))
    assert 120 <= opened(logo).convert("L").getpixel((50, 50)) <= 136


# -- What is refused -------------------------------------------------------------------


@pytest.mark.parametrize(("build", "code", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_it_refuses(build, code, message):
    file = upload(build())
    error = refusal(file)
    assert error.code == code
    assert message in text_of(error)
    assert file.tell() == 0


def test_the_3_mb_file_is_a_real_image_refused_only_for_its_size():
    data = encoded(noise((1024, 1024)))
    assert len(data) > 1.5 * LOGO_MAX_BYTES
    assert Image.open(io.BytesIO(data)).size == (1024, 1024)
    assert "3.1 MB" in text_of(refusal(upload(data)))


def test_the_size_is_checked_before_anything_is_read():
    class Unreadable(ContentFile):
        def read(self, *args):
            raise AssertionError("read before the size check")

        def seek(self, *args):
            raise AssertionError("seek before the size check")

    assert refusal(Unreadable(b"\x89PNG" + b"0" * LOGO_MAX_BYTES)).code == "logo_too_large"


@pytest.mark.parametrize(
    "side",
    [5000, 10_000, 20_000],  # refused by our limit, by Pillow's warning, by Pillow's error
)
def test_bombs_are_refused_without_decoding(side, no_decoding):
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        error = refusal(upload(png_declaring(side, side)))
    assert error.code == "logo_too_many_pixels"
    assert "more pixels than we can safely process" in text_of(error)
    assert escaped == []  # Pillow's DecompressionBombWarning was turned into the refusal


def test_other_formats_are_named_but_never_parsed(monkeypatch):
    def parse(self):
        raise Decoded

    monkeypatch.setattr(GifImagePlugin.GifImageFile, "_open", parse)
    assert "not GIF" in text_of(refusal(upload(plain("GIF"))))


def test_the_no_decoding_guard_would_notice_decoding(no_decoding):
    with pytest.raises(Decoded):
        inspect_logo(upload(plain()))


def test_bomb_warnings_become_errors_only_inside_the_pipeline():
    refusal(upload(png_declaring(10_000, 10_000)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Image.open(io.BytesIO(png_declaring(10_000, 10_000)))
    assert [warning.category for warning in caught] == [Image.DecompressionBombWarning]


def test_a_truncated_file_is_refused_even_if_pillow_was_told_to_tolerate_it(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert refusal(upload(truncated(encoded(noise((256, 256)))))).code == "logo_corrupt"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_refusals_are_translated():
    with translation.override("zh-hans"):
        assert "至少需要 64×64" in text_of(refusal(upload(plain(size=(32, 32)))))


def test_the_model_validator_uses_the_same_checks():
    with pytest.raises(ValidationError) as caught:
        validate_logo(upload(png_declaring(20_000, 20_000)))
    assert caught.value.code == "logo_too_many_pixels"


# -- What is stored --------------------------------------------------------------------


def rotated_jpeg():
    """200×100, red top-left corner, with EXIF saying "turn me 90° clockwise to view"."""
    image = Image.new("RGB", (200, 100), WHITE)
    image.paste(RED, (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(image, "JPEG", exif=exif, quality=95)


def test_an_exif_rotated_jpeg_comes_out_upright():
    logo, _ = process_logo(upload(rotated_jpeg()))
    stored = opened(logo)
    assert stored.size == (100, 200)
    # Turned clockwise, the top-left corner becomes the top-right one.
    assert max(abs(a - b) for a, b in zip(stored.getpixel((90, 10)), RED, strict=True)) < 30
    assert min(stored.getpixel((10, 10))) > 225
    assert min(stored.getpixel((90, 190))) > 225
    assert 0x0112 not in stored.getexif()


def spy_exif():
    exif = Image.Exif()
    exif[0x010F] = "Spy Camera"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}  # GPS: latitude
    return exif


SPIED = {
    "jpeg with exif and icc": lambda: encoded(
        noise((100, 100)),
        "JPEG",
        exif=spy_exif(),
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    ),
    "png with text and exif": lambda: encoded(
        Image.new("RGB", (100, 100), RED), "PNG", pnginfo=spy_text(), exif=spy_exif()
    ),
    "webp with exif and xmp": lambda: encoded(
        Image.new("RGB", (100, 100), RED),
        "WEBP",
        exif=spy_exif(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Spy Camera</x:xmpmeta>',
    ),
}


def spy_text():
    info = PngInfo()
    info.add_text("Comment", "Spy Camera")
    info.add_text("Author", "Spy Camera", zip=True)
    return info


@pytest.mark.parametrize("build", SPIED.values(), ids=SPIED.keys())
def test_metadata_is_stripped(build):
    data = build()
    assert b"Spy Camera" in data
    for stored in process_logo(upload(data)):
        stored.seek(0)
        content = stored.read()
        assert b"Spy Camera" not in content
        image = Image.open(io.BytesIO(content))
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "Comment", "Author"} & image.info.keys()


def test_each_upload_gets_a_new_name_of_our_choosing():
    data = plain()
    first, _ = process_logo(upload(data, name="acme-secret-plan.png"))
    second, _ = process_logo(upload(data, name="acme-secret-plan.png"))
    assert first.name != second.name
    for name in (first.name, second.name):
        assert name.startswith("logos/")
        assert name.endswith(".webp")
        assert "acme" not in name
        assert len(Path(name).stem) == 32


def test_the_thumbnail_is_named_after_the_logo():
    logo, thumbnail = process_logo(upload(plain()))
    stem = Path(logo.name).stem
    assert thumbnail.name == thumbnail_name(logo.name) == f"logos/thumbs/{stem}.webp"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("logos/abc.webp", "logos/thumbs/abc.webp"), ("abc.png", "thumbs/abc.webp")],
)
def test_thumbnail_name(name, expected):
    assert thumbnail_name(name) == expected


@pytest.mark.parametrize(
    ("size", "logo_size", "thumbnail_size"),
    [
        ((2000, 1000), (512, 256), (128, 64)),
        ((1000, 3000), (171, 512), (43, 128)),
        ((100, 80), (100, 80), (100, 80)),
    ],
)
def test_it_shrinks_but_never_enlarges(size, logo_size, thumbnail_size):
    logo, thumbnail = process_logo(upload(plain("JPEG", size=size)))
    assert (opened(logo).format, opened(logo).size) == ("WEBP", logo_size)
    assert (opened(thumbnail).format, opened(thumbnail).size) == ("WEBP", thumbnail_size)


def test_save_logo_stores_the_logo_and_its_thumbnail():
    storage = InMemoryStorage()
    name = save_logo(upload(plain(size=(800, 800))), storage=storage)
    assert storage.listdir("logos") == (["thumbs"], [Path(name).name])
    with storage.open(name) as logo, storage.open(thumbnail_name(name)) as thumbnail:
        assert Image.open(logo).size == (512, 512)
        assert Image.open(thumbnail).size == (128, 128)


def test_save_logo_stores_nothing_for_a_refused_upload():
    storage = InMemoryStorage()
    with pytest.raises(ValidationError):
        save_logo(upload(plain("GIF")), storage=storage)
    assert storage.listdir("") == ([], [])


def test_save_logo_removes_the_logo_if_the_thumbnail_cannot_be_stored():
    class NoThumbnails(InMemoryStorage):
        def _save(self, name, content):
            if "/thumbs/" in name:
                raise OSError("disk full")
            return super()._save(name, content)

    storage = NoThumbnails()
    with pytest.raises(OSError, match="disk full"):
        save_logo(upload(plain()), storage=storage)
    assert storage.listdir("logos") == ([], [])


def test_save_logo_uses_the_default_storage_under_media_root():
    name = save_logo(upload(plain()))
    try:
        assert (Path(settings.MEDIA_ROOT) / name).is_file()
        assert (Path(settings.MEDIA_ROOT) / thumbnail_name(name)).is_file()
    finally:
        default_storage.delete(name)
        default_storage.delete(thumbnail_name(name))
