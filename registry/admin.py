from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from registry import pagecache
from registry.forms import ProjectAdminForm
from registry.models import Project, Track
from review import exports, workflow
from review.admin_forms import ReasonForm
from review.roles import conflicted_project_ids, is_editor, may_change_project
from review.workflow import TransitionError


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
    # Publication goes through review.workflow (unpublish/republish buttons, with a reason
    # kept in the audit trail), never through this form.
    readonly_fields = ["published", "published_at", "first_published_at", "created_at", "updated_at"]
    actions = ["feature", "unfeature", "export_csv", "export_xlsx"]
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

    # A conflicted editor sees the project but changes it in no way (review.roles).

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_project(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change_project(request.user, obj))

    def _set_featured(self, request, queryset, featured):
        """Features (or stops featuring) the selected projects the editor may change; the
        others are named in a warning and left as they were."""
        conflicted = conflicted_project_ids(request.user, queryset)
        count = queryset.exclude(pk__in=conflicted).update(featured=featured)
        pagecache.published_changed()
        if conflicted:
            messages.warning(
                request,
                gettext(
                    "%(count)s project(s) left as they were: you own them or declared a conflict of "
                    "interest with them, so another editor must decide."
                )
                % {"count": len(conflicted)},
            )
        return count

    @admin.action(description=_("Feature the selected projects"), permissions=["change"])
    def feature(self, request, queryset):
        if count := self._set_featured(request, queryset, True):
            messages.success(request, gettext("%(count)s project(s) featured.") % {"count": count})

    @admin.action(description=_("Stop featuring the selected projects"), permissions=["change"])
    def unfeature(self, request, queryset):
        if count := self._set_featured(request, queryset, False):
            messages.success(request, gettext("%(count)s project(s) no longer featured.") % {"count": count})

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": is_editor(request.user)}
        return super().changelist_view(request, extra_context)

    # --- Editors' exports: every field, review state included (review.exports) ---------------

    def has_export_permission(self, request):
        """Exports carry what the public never sees (contact addresses, owners): editors only."""
        return is_editor(request.user)

    def _export(self, queryset, file_format):
        return exports.response(
            "projects", exports.PROJECT_COLUMNS, exports.project_rows(queryset), file_format
        )

    @admin.action(description=_("Export the selected projects (CSV, every field)"), permissions=["export"])
    def export_csv(self, request, queryset):
        return self._export(queryset, "csv")

    @admin.action(description=_("Export the selected projects (XLSX, every field)"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        return self._export(queryset, "xlsx")

    # --- Unpublish / republish: buttons on the change page, through review.workflow ----------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        project = self.get_object(request, object_id)
        if project is not None and self.has_view_permission(request, project):
            if (
                request.method == "GET"
                and is_editor(request.user)
                and not may_change_project(request.user, project)
            ):
                messages.warning(
                    request,
                    gettext(
                        "You own this project or declared a conflict of interest with it: you can read it, "
                        "and another editor must change it."
                    ),
                )
            extra_context = {
                **(extra_context or {}),
                "project": project,
                "events": project.events.select_related("actor", "submission"),
                "show_internal": True,
                "publication_form": ReasonForm(auto_id="id_publication_%s")
                if is_editor(request.user)
                else None,
                "publication_url": reverse(
                    "admin:registry_project_unpublish"
                    if project.published
                    else "admin:registry_project_republish",
                    args=[project.pk],
                ),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/unpublish/", view(self.unpublish_view), name="registry_project_unpublish"),
            path("<int:pk>/republish/", view(self.republish_view), name="registry_project_republish"),
            *super().get_urls(),
        ]

    def _publication(self, request, pk, call, success):
        if not self.has_view_permission(request):
            raise PermissionDenied
        project = get_object_or_404(Project, pk=pk)
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                call(project, by=request.user, reason=form.cleaned_data["reason"])
            except TransitionError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, success % {"name": project})
        return redirect("admin:registry_project_change", project.pk)

    @method_decorator(require_POST)
    def unpublish_view(self, request, pk):
        return self._publication(request, pk, workflow.unpublish, gettext("“%(name)s” is off the map."))

    @method_decorator(require_POST)
    def republish_view(self, request, pk):
        return self._publication(request, pk, workflow.republish, gettext("“%(name)s” is on the map again."))
