"""Validators for the listing schema's rules (PRODUCT.md, "Listing fields")."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from registry.images import LOGO_FORMATS, LOGO_MAX_BYTES, LOGO_MAX_SIDE, LOGO_MIN_SIDE, inspect_logo  # noqa: F401 (re-exported)

FIRST_FOUNDED_YEAR = 1990

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
    """PNG, JPEG or WebP judged by content, at most 2 MB, 64x64 to 4096x4096 pixels.

    The checks live in registry.images.inspect_logo; this class is what the model
    field (and its migrations) refer to.
    """

    def __call__(self, file):
        inspect_logo(file)

    def __eq__(self, other):
        return isinstance(other, LogoValidator)


validate_logo = LogoValidator()
