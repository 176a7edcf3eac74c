from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from registry.images import inspect_logo, save_logo
from registry.listing import secondary_track_errors
from registry.models import Project


class ListingFormMixin:
    """Rules that span several listing fields; shared by every form that edits a listing."""

    def clean(self):
        cleaned = super().clean()
        secondary = cleaned.get("secondary_tracks")
        if secondary is not None:
            for error in secondary_track_errors(cleaned.get("track"), list(secondary)):
                self.add_error("secondary_tracks", error)
        return cleaned


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
