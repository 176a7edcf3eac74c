from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from registry.forms import ProjectAdminForm
from registry.models import Project, Track


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


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectAdminForm
    list_display = [
        "name",
        "name_en",
        "track",
        "status",
        "published",
        "published_at",
        "featured",
        "listed_by",
    ]
    list_filter = [
        "published",
        "featured",
        "verified",
        "status",
        "listed_by",
        "track",
        "stage",
        "funding_stage",
    ]
    list_select_related = ["track"]
    search_fields = ["name", "name_en", "organization", "tagline", "slug"]
    ordering = ["-published_at", "-pk"]
    date_hierarchy = "published_at"
    raw_id_fields = ["owner"]
    filter_horizontal = ["secondary_tracks"]
    readonly_fields = ["first_published_at", "created_at", "updated_at"]
    fieldsets = [
        (_("Basics"), {"fields": ["name", "name_en", "slug", "tagline", "description", "logo"]}),
        (_("Tracks"), {"fields": ["track", "secondary_tracks"]}),
        (
            _("Company"),
            {"fields": ["organization", "website", "founded_year", "hq_city", "hq_country", "team_size"]},
        ),
        (
            _("Business"),
            {"fields": ["stage", "funding_stage", "business_models", "target_market", "customer_types"]},
        ),
        (_("AI stack"), {"fields": ["foundation_models", "models_used", "modalities"]}),
        (_("Looking for"), {"fields": ["seeking", "status", "contact_email", "show_contact_email"]}),
        (
            _("Publication"),
            {
                "fields": [
                    "owner",
                    "listed_by",
                    "published",
                    "published_at",
                    "featured",
                    "verified",
                    "verified_at",
                    "first_published_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.first_published_at:
            fields.append("slug")  # stable once published: links out there point at it
        return fields
