"""The tracks' admin. The projects' admin belongs to the app above this one, which audits
every change to a listing (docs/decisions/0016-one-door-for-the-audit-trail.md)."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from registry.models import Track


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "slug", "order", "color", "project_count"]
    list_editable = ["order"]
    search_fields = ["name_zh", "name_en", "slug"]
    ordering = ["order", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(project_total=Count("projects"))

    @admin.display(description=_("projects"), ordering="project_total")
    def project_count(self, track):
        return track.project_total
