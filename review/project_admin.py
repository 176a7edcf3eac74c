"""The projects on the map in the admin (registry.Project), registered by review/admin.py.

Every change it makes to a listing goes through a review function that writes an Event
(docs/decisions/0016-one-door-for-the-audit-trail.md):

- saving the change form: `review.listings.edit` (action "edit_listing", the changed
  fields; nothing is written when nothing changed); adding a project: `listings.create`
  ("create_listing");
- the bulk actions Feature / Stop featuring: `listings.feature` / `unfeature`, one call
  and one Event per project; projects the editor owns or declared a conflict with are
  left as they were and counted in a warning;
- the Unpublish / Publish again button: `review.workflow.unpublish` / `republish`, with
  a reason;
- the exports write nothing.

Deleting is not offered: a listing leaves the map by Unpublish, with its trail kept.
A conflicted editor reads a project's page and changes nothing (review.roles).
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from registry.fields import MultiChoiceField
from registry.forms import ProjectAdminForm
from registry.models import Project
from review import exports, lifecycle, listings, workflow
from review.admin_forms import ReasonForm
from review.models import Concern, Event, LinkCheck
from review.roles import conflicted_project_ids, is_conflicted_with_project, is_editor, may_change_project
from review.workflow import TransitionError


class UnverifiedFilter(admin.SimpleListFilter):
    """The editors' freshness lists: listings not verified (no review decision, editor's check
    or founder's confirmation) for 6, 12 or 24 months, never-verified ones included."""

    title = _("not verified for")
    parameter_name = "unverified"
    MONTHS = (6, 12, 24)

    def lookups(self, request, model_admin):
        return [(str(months), _("%(months)s months") % {"months": months}) for months in self.MONTHS]

    def queryset(self, request, queryset):
        if self.value() not in {str(months) for months in self.MONTHS}:
            return queryset
        cutoff = timezone.now() - timedelta(days=round(int(self.value()) * 30.44))
        return queryset.filter(Q(last_verified_at__lt=cutoff) | Q(last_verified_at__isnull=True))


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
        "last_verified_at",
    ]
    list_filter = [
        UnverifiedFilter,
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
    raw_id_fields = ["owner", "acquirer", "successor"]
    filter_horizontal = ["secondary_tracks"]
    # Without this the admin's default for a CharField (a text box) would win, and no form
    # holding a many-of choice could be saved back.
    formfield_overrides = {MultiChoiceField: {"widget": forms.CheckboxSelectMultiple}}
    # Publication goes through review.workflow (unpublish/republish buttons, with a reason
    # kept in the audit trail), never through this form.
    readonly_fields = [
        "published",
        "published_at",
        "first_published_at",
        "created_at",
        "updated_at",
        "last_verified_at",
        "confirmation_sent_at",
    ]
    actions = ["feature", "unfeature", "publish_listings", "export_csv", "export_xlsx"]
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
        (_("Looking for"), {"fields": ["seeking", "contact_email", "show_contact_email"]}),
        (
            _("What became of it"),
            {"fields": ["status", "status_since", "status_evidence", "acquired_by", "acquirer", "successor"]},
        ),
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
                    "last_verified_at",
                    "confirmation_sent_at",
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
        """Nobody deletes a listing here: Unpublish takes it off the map and keeps its trail
        (its Events protect the row anyway)."""
        return False

    # --- The form: saved by review.listings, with the Event ----------------------------------

    def save_model(self, request, obj, form, change):
        """Nothing here: save_related writes the project, its secondary tracks and the Event
        together through review.listings."""

    def save_related(self, request, form, formsets, change):
        project, changed = form.instance, form.changed_data
        secondary = form.cleaned_data.get("secondary_tracks")
        try:
            if change:
                listings.edit(project, by=request.user, changed_fields=changed, secondary_tracks=secondary)
            else:
                listings.create(
                    project, by=request.user, changed_fields=changed, secondary_tracks=secondary or ()
                )
        except TransitionError as error:  # the permissions mirror the rules; this is a forged POST
            raise PermissionDenied(error.message) from error

    # --- Feature / stop featuring: one review.listings call per project ------------------------

    def _each_selected(self, request, queryset, call):
        """Call `call` on each selected project the editor may change (feature, stop featuring, publish);
        the others are counted in a warning and left as they were. Returns how many were done."""
        conflicted = conflicted_project_ids(request.user, queryset)
        done = 0
        for project in queryset.exclude(pk__in=conflicted).order_by("pk"):
            try:
                call(project, by=request.user)
            except TransitionError as error:
                messages.error(request, f"“{project}”: {error.message}")
            else:
                done += 1
        if conflicted:
            messages.warning(
                request,
                gettext(
                    "%(count)s project(s) left as they were: you own them or declared a conflict of "
                    "interest with them, so another editor must decide."
                )
                % {"count": len(conflicted)},
            )
        return done

    @admin.action(description=_("Feature the selected projects"), permissions=["change"])
    def feature(self, request, queryset):
        if count := self._each_selected(request, queryset, listings.feature):
            messages.success(request, gettext("%(count)s project(s) featured.") % {"count": count})

    @admin.action(description=_("Stop featuring the selected projects"), permissions=["change"])
    def unfeature(self, request, queryset):
        if count := self._each_selected(request, queryset, listings.unfeature):
            messages.success(request, gettext("%(count)s project(s) no longer featured.") % {"count": count})

    @admin.action(description=_("Publish the selected unpublished listings"), permissions=["change"])
    def publish_listings(self, request, queryset):
        """Editors' listings imported unpublished, put on the map in bulk (review.workflow:
        each with its Event); listings already on the map are left as they are."""
        reason = gettext("Published from the list of projects.")
        count = self._each_selected(
            request,
            queryset.filter(published=False),
            lambda project, by: workflow.republish(project, by=by, reason=reason),
        )
        if count:
            messages.success(request, gettext("%(count)s project(s) published.") % {"count": count})

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
                "events": Event.objects.of_project(project).select_related("actor", "submission"),
                # Internal details are not for anyone conflicted with the project (its owner
                # among staff, or a declared tie): the same rule as on submissions.
                "show_internal": not is_conflicted_with_project(request.user, project),
                "publication_form": ReasonForm(auto_id="id_publication_%s")
                if is_editor(request.user)
                else None,
                "verify_url": reverse("admin:registry_project_verify", args=[project.pk]),
                "concerns": project.concerns.filter(state=Concern.State.OPEN),
                "link_check": LinkCheck.objects.filter(project=project).first(),
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
            path("<int:pk>/verify/", view(self.verify_view), name="registry_project_verify"),
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

    @method_decorator(require_POST)
    def verify_view(self, request, pk):
        """An editor checked the listing and found it true (review.lifecycle.verify)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        project = get_object_or_404(Project, pk=pk)
        try:
            lifecycle.verify(project, by=request.user, note=request.POST.get("note", "")[:1000])
        except TransitionError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, gettext("“%(name)s” is marked as verified today.") % {"name": project})
        return redirect("admin:registry_project_change", project.pk)
