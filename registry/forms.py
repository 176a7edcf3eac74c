import re

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from registry.images import inspect_logo, save_logo
from registry.listing import end_state_errors, end_state_values, secondary_track_errors
from registry.models import Project


class ListingFormMixin:
    """Rules that span several listing fields; shared by every form that edits a listing."""

    # Whether the end-state rules' requirements apply (a founder's draft may be incomplete).
    complete = True

    def clean(self):
        cleaned = super().clean()
        secondary = cleaned.get("secondary_tracks")
        if secondary is not None:
            for error in secondary_track_errors(cleaned.get("track"), list(secondary)):
                self.add_error("secondary_tracks", error)
        if "status" in self.fields and "status" in cleaned:
            end_state_values(cleaned)
            if self.complete:
                for name, messages in end_state_errors(cleaned, listing_pk=self.listing_pk).items():
                    for message in messages:
                        self.add_error(name if name in self.fields else None, message)
        return cleaned

    @property
    def listing_pk(self):
        """The project this form's listing is (or updates): a successor may not lead back to it."""
        return self.instance.pk


SLUG_TEXT = re.compile(r"[-a-zA-Z0-9_]+")


class ListingRefField(forms.Field):
    """Another listing on the public map, named by its slug or its address (…/projects/<slug>/):
    a text box, not a list of every project."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "help_text", _("The address of its page on the map, e.g. https://…/projects/deeplang/.")
        )
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Project):
            return value.slug
        if isinstance(value, int):
            return Project.objects.filter(pk=value).values_list("slug", flat=True).first() or ""
        return value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return None
        slug = text.rstrip("/").rsplit("/", 1)[-1] if "/" in text else text
        # Only a slug's characters reach the database (never a NUL byte, never 10,000 characters).
        valid = SLUG_TEXT.fullmatch(slug) is not None and len(slug) <= 100
        project = Project.objects.published().filter(slug=slug).first() if valid else None
        if project is None:
            raise forms.ValidationError(
                _("No project on the map has the address “%(value)s”."), params={"value": text[:100]}
            )
        return project


class ProjectAdminForm(ListingFormMixin, forms.ModelForm):
    # A plain file field: registry.images judges the upload and stores a re-encoded copy.
    logo = forms.FileField(label=_("logo"), required=False, widget=forms.ClearableFileInput)

    class Meta:
        model = Project
        fields = "__all__"  # noqa: DJ007 (the admin edits every field)

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if isinstance(upload, UploadedFile):
            inspect_logo(upload)  # judged here; stored only once the whole form is valid
        return upload

    def save(self, commit=True):
        upload = self.cleaned_data.get("logo")
        if isinstance(upload, UploadedFile):
            self.instance.logo = save_logo(upload)  # the re-encoded copy's name, never the raw upload
        return super().save(commit)
