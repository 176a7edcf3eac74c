"""A many-of choice field that works the same on SQLite and PostgreSQL.

The value is a list of choice codes in Python and in forms; in the database it is
one text column holding the codes in choice order between commas (",usage,open_source,"),
so "has this code" is `field__contains=",code,"` on every backend. Why not an
ArrayField or a JSONField: docs/decisions/0002-multi-choice-fields.md.
"""

from django import forms
from django.core import exceptions
from django.db import models
from django.utils.translation import gettext_lazy as _

SEPARATOR = ","


class SchemaOnly:
    """A field that migrations record as the built-in field it extends, without the arguments
    that only matter to Python (validators, upload paths) and name project code: a migration
    holds what the database holds and imports nothing from registry, review or aimap, so it
    gives a database years from now exactly what it gave then (docs/decisions/0015)."""

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        if "upload_to" in kwargs:
            kwargs["upload_to"] = ""
        builtin = next(cls for cls in type(self).__mro__ if cls.__module__.startswith("django.db.models."))
        return name, f"django.db.models.{builtin.__name__}", args, kwargs


class LogoField(SchemaOnly, models.ImageField):
    """The listing's logo: checked by content (registry.validators) and stored under a random name."""


class YearField(SchemaOnly, models.PositiveSmallIntegerField):
    """A year, checked by registry.validators.validate_founded_year."""


class MultiChoiceField(SchemaOnly, models.CharField):
    description = _("Several choices, stored as comma-delimited codes")

    def __init__(self, *args, choices=None, **kwargs):
        if choices is None:
            raise TypeError("MultiChoiceField needs choices")
        self.multi_choices = list(choices.choices if hasattr(choices, "choices") else choices)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        kwargs.setdefault("max_length", sum(len(code) + 1 for code, _label in self.multi_choices) + 1)
        super().__init__(*args, **kwargs)

    @property
    def codes(self):
        return [code for code, _label in self.multi_choices]

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not cls._meta.abstract:
            setattr(cls, f"get_{name}_labels", lambda obj: self.labels(getattr(obj, name)))

    def labels(self, codes):
        """The human labels of `codes`, in choice order."""
        chosen = set(self.to_python(codes))
        return [label for code, label in self.multi_choices if code in chosen]

    def deconstruct(self):
        """A CharField holding the codes between commas, to migrations (its default is the
        empty list, stored as '')."""
        name, path, args, kwargs = super().deconstruct()
        kwargs["choices"] = self.multi_choices
        kwargs["default"] = ""
        return name, path, args, kwargs

    # --- Python <-> database ------------------------------------------------

    def to_python(self, value):
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [code for code in value.split(SEPARATOR) if code]
        return list(value)

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def get_prep_value(self, value):
        codes = self.to_python(value)
        if not codes:
            return ""
        order = {code: index for index, code in enumerate(self.codes)}
        ordered = sorted(set(codes), key=lambda code: order.get(code, len(order)))
        return SEPARATOR + SEPARATOR.join(ordered) + SEPARATOR

    def value_to_string(self, obj):
        return ";".join(self.value_from_object(obj))

    # --- Validation and forms -----------------------------------------------

    def validate(self, value, model_instance):
        codes = self.to_python(value)
        unknown = [code for code in codes if code not in self.codes]
        if unknown:
            raise exceptions.ValidationError(
                _("Unknown value: %(value)s."), code="invalid_choice", params={"value": ", ".join(unknown)}
            )
        if not codes and not self.blank:
            raise exceptions.ValidationError(self.error_messages["blank"], code="blank")

    def run_validators(self, value):
        # CharField's MaxLengthValidator would measure the list, not the stored text.
        return None

    def formfield(self, **kwargs):
        defaults = {
            "form_class": forms.TypedMultipleChoiceField,
            "choices": self.multi_choices,
            "widget": forms.CheckboxSelectMultiple,
            "required": not self.blank,
            "label": self.verbose_name,
            "help_text": self.help_text,
        }
        defaults.update(kwargs)
        form_class = defaults.pop("form_class")
        defaults.pop("choices_form_class", None)
        defaults.pop("max_length", None)
        defaults.pop("empty_value", None)
        return form_class(**defaults)


def has_any(field_name, codes):
    """A Q matching rows whose multi-choice `field_name` holds any of `codes`."""
    query = models.Q()
    for code in codes:
        query |= models.Q(**{f"{field_name}__contains": f"{SEPARATOR}{code}{SEPARATOR}"})
    return query


class SearchTokensField(SchemaOnly, models.TextField):
    """The search tokens of a listing (registry.search), worked out whenever the row is
    written, bulk inserts included: kept up to date without anyone having to remember."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    @staticmethod
    def derive(values):
        """The value for a row's fields: the bulk loader writes it the same way."""
        from registry.search import document

        return document(values)

    def pre_save(self, model_instance, add):
        value = self.derive(model_instance)
        setattr(model_instance, self.attname, value)
        return value


class NameKeyField(SchemaOnly, models.CharField):
    """The normalised name of a listing (registry.names.name_key), worked out whenever the row
    is written, bulk inserts included: what imports match names by."""

    def __init__(self, *args, **kwargs):
        from registry.names import MAX_KEY_LENGTH

        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("max_length", MAX_KEY_LENGTH)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    @staticmethod
    def derive(values):
        """The value for a row's fields (`values.name`): the bulk loader writes it the same way."""
        from registry.names import name_key

        return name_key(values.name)

    def pre_save(self, model_instance, add):
        value = self.derive(model_instance)
        setattr(model_instance, self.attname, value)
        return value
