"""A submission's content, field by field, beside the live project's (for updates).

Every field of the listing schema is compared, secondary tracks included, except the
slug: it is derived once and publishing an update never changes it.
"""

from dataclasses import dataclass

from django.db import models
from django.template.defaultfilters import yesno
from django_countries.fields import CountryField

from registry.fields import MultiChoiceField
from registry.listing import Listing, listing_field_names

NOT_COMPARED = {"slug"}


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    proposed: object
    live: object = None
    changed: bool = False

    @property
    def is_logo(self):
        return self.name == "logo"


def _raw(listing, field):
    """What the field holds, in a form that compares equal when the content is the same."""
    if field.many_to_many:
        return sorted(track.pk for track in getattr(listing, field.name).all())
    value = getattr(listing, field.attname)
    if isinstance(field, MultiChoiceField):
        return sorted(field.to_python(value))
    if isinstance(field, models.FileField):
        return value.name or ""
    if isinstance(field, CountryField):
        return value.code or ""
    return "" if value is None else value


def _display(listing, field):
    """What a person reads: labels instead of codes, names instead of ids."""
    if field.many_to_many:
        return ", ".join(str(track) for track in getattr(listing, field.name).all())
    value = getattr(listing, field.name)
    if isinstance(field, MultiChoiceField):
        return ", ".join(str(label) for label in field.labels(value))
    if isinstance(field, models.FileField):
        return value or None
    if isinstance(field, CountryField):
        return value.name if value else ""
    if isinstance(field, models.BooleanField):
        return yesno(value)
    if field.choices:
        return getattr(listing, f"get_{field.name}_display")()
    return "" if value is None else str(value)


def listing_rows(submission, project=None):
    """One Row per listing field; with `project`, its live values and whether they differ."""
    rows = []
    for name in listing_field_names():
        if name in NOT_COMPARED:
            continue
        field = Listing._meta.get_field(name)
        label = field.verbose_name
        if project is None:
            rows.append(Row(name, label, _display(submission, field)))
            continue
        rows.append(
            Row(
                name,
                label,
                _display(submission, field),
                live=_display(project, field),
                changed=_raw(submission, field) != _raw(project, field),
            )
        )
    return rows
