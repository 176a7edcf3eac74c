from django import forms

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
    class Meta:
        model = Project
        fields = "__all__"  # noqa: DJ007 (the admin edits every field)
