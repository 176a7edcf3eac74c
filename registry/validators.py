"""Validators for the listing schema's rules (PRODUCT.md, "Listing fields")."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

FIRST_FOUNDED_YEAR = 1990
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MIN_SIDE = 64
LOGO_MAX_SIDE = 4096
LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}

validate_http_url = URLValidator(
    schemes=["http", "https"], message=_("Enter a web address starting with http:// or https://.")
)


def validate_founded_year(value):
    this_year = timezone.now().year
    if value is not None and not FIRST_FOUNDED_YEAR <= value <= this_year:
        raise ValidationError(
            _("Enter a year between %(first)s and %(last)s."),
            code="founded_year",
            params={"first": FIRST_FOUNDED_YEAR, "last": this_year},
        )


@deconstructible
class LogoValidator:
    """PNG, JPEG or WebP judged by content, at most 2 MB, 64x64 to 4096x4096 pixels."""

    def __call__(self, file):
        if file.size > LOGO_MAX_BYTES:
            raise ValidationError(
                _("The logo is %(size)s MB; the limit is 2 MB."),
                code="logo_too_large",
                params={"size": f"{file.size / 1024 / 1024:.1f}"},
            )
        position = file.tell() if hasattr(file, "tell") else 0
        try:
            file.seek(0)
            with Image.open(file) as image:
                kind, (width, height) = image.format, image.size
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
            raise ValidationError(
                _("This file is not a PNG, JPEG or WebP image."), code="logo_not_image"
            ) from None
        finally:
            file.seek(position)
        if kind not in LOGO_FORMATS:
            raise ValidationError(
                _("The logo must be PNG, JPEG or WebP, not %(kind)s."),
                code="logo_format",
                params={"kind": kind},
            )
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

    def __eq__(self, other):
        return isinstance(other, LogoValidator)


validate_logo = LogoValidator()
