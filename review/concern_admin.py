"""The editors' "maybe gone" queue in the admin (review.models.Concern), registered by
review/admin.py: visitors' reports and link alerts, open ones first. Every answer goes
through review.lifecycle (one Event each): close the listing with evidence (an end state:
closed, acquired or pivoted), mark a false alarm (a link alert's checks of that address are
silenced), or mark it handled. Nothing is closed automatically; nothing here is deleted."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from registry.forms import ListingRefField
from registry.listing import ENDED, Listing, Status
from review import lifecycle
from review.models import Concern, LinkCheck
from review.roles import is_editor
from review.workflow import TransitionError


class OpenFirstFilter(admin.SimpleListFilter):
    """The queue opens on the open ones; the resolved stay a click away."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(state.value, state.label) for state in Concern.State] + [("all", _("All"))]

    def queryset(self, request, queryset):
        value = self.value() or Concern.State.OPEN
        return queryset if value == "all" else queryset.filter(state=value)

    def choices(self, changelist):
        current = self.value() or Concern.State.OPEN
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class EndStateForm(forms.Form):
    """What became of the listing, from the evidence (review.lifecycle.record_end_state)."""

    status = forms.ChoiceField(label=_("status"), choices=[(s.value, s.label) for s in ENDED])
    since = forms.DateField(
        label=Listing._meta.get_field("status_since").verbose_name,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=Listing._meta.get_field("status_since").help_text,
    )
    evidence = forms.CharField(
        label=Listing._meta.get_field("status_evidence").verbose_name,
        max_length=500,
        widget=forms.TextInput(attrs={"class": "vLargeTextField", "size": 80}),
        help_text=Listing._meta.get_field("status_evidence").help_text,
    )
    acquired_by = forms.CharField(
        label=Listing._meta.get_field("acquired_by").verbose_name, max_length=120, required=False
    )
    acquirer = ListingRefField(label=Listing._meta.get_field("acquirer").verbose_name, required=False)
    successor = ListingRefField(label=Listing._meta.get_field("successor").verbose_name, required=False)


class ResolveForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            (Concern.State.FIXED, Concern.State.FIXED.label),
            (Concern.State.FALSE_ALARM, Concern.State.FALSE_ALARM.label),
        ]
    )
    note = forms.CharField(label=_("note"), max_length=1000, required=False)


@admin.register(Concern)
class ConcernAdmin(admin.ModelAdmin):
    list_display = ["project", "kind", "source", "created_at", "state", "website_check"]
    list_filter = [OpenFirstFilter, "source", "kind"]
    list_select_related = ["project", "project__link_check"]
    search_fields = ["project__name", "project__name_en", "project__slug", "message"]
    date_hierarchy = "created_at"
    readonly_fields = ["project", "source", "kind", "message", "reporter_email", "created_at", "state",
                       "resolved_at", "resolved_by", "resolution_note"]  # fmt: skip
    fields = readonly_fields

    # Editors only; answered through the buttons of the change page, never edited or deleted.
    def has_module_permission(self, request):
        return is_editor(request.user)

    def has_view_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("website check"))
    def website_check(self, concern):
        check = getattr(concern.project, "link_check", None)  # read with the list (list_select_related)
        if check is None:
            return "—"
        return (
            gettext("%(error)s, %(count)s failures since %(since)s")
            % {
                "error": check.error or "ok",
                "count": check.failures,
                "since": check.failing_since.strftime("%Y-%m-%d") if check.failing_since else "—",
            }
            if not check.ok
            else gettext("answers (checked %(when)s)") % {"when": check.checked_at.strftime("%Y-%m-%d")}
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        concern = self.get_object(request, object_id)
        if concern is not None and self.has_view_permission(request, concern):
            project = concern.project
            extra_context = {
                **(extra_context or {}),
                "concern": concern,
                "link_check": LinkCheck.objects.filter(project=project).first(),
                "end_state_form": EndStateForm(
                    initial={"status": Status.CLOSED, "evidence": concern.message[:500]}, auto_id="id_end_%s"
                ),
                "resolve_form": ResolveForm(auto_id="id_resolve_%s"),
                "close_url": reverse("admin:review_concern_close", args=[concern.pk]),
                "resolve_url": reverse("admin:review_concern_resolve", args=[concern.pk]),
                "project_url": reverse("admin:registry_project_change", args=[project.pk]),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/close/", view(self.close_view), name="review_concern_close"),
            path("<int:pk>/resolve/", view(self.resolve_view), name="review_concern_resolve"),
            *super().get_urls(),
        ]

    def _concern(self, request, pk):
        if not is_editor(request.user):
            raise PermissionDenied
        return get_object_or_404(Concern.objects.select_related("project"), pk=pk)

    @method_decorator(require_POST)
    def close_view(self, request, pk):
        concern = self._concern(request, pk)
        form = EndStateForm(request.POST)
        if not form.is_valid():
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
            return redirect("admin:review_concern_change", concern.pk)
        data = form.cleaned_data
        try:
            lifecycle.record_end_state(
                concern.project, by=request.user, status=data["status"], since=data["since"],
                evidence=data["evidence"], acquired_by=data["acquired_by"], acquirer=data["acquirer"],
                successor=data["successor"], concern=concern,
            )  # fmt: skip
        except TransitionError as error:
            details = " ".join(error.errors.values())
            messages.error(request, f"{error.message} {details}".strip())
            return redirect("admin:review_concern_change", concern.pk)
        messages.success(
            request,
            gettext("“%(name)s” is recorded as %(status)s; it stays on the map, labelled.")
            % {"name": concern.project, "status": Status(data["status"]).label.lower()},
        )
        return redirect("admin:review_concern_changelist")

    @method_decorator(require_POST)
    def resolve_view(self, request, pk):
        concern = self._concern(request, pk)
        form = ResolveForm(request.POST)
        if form.is_valid():
            try:
                lifecycle.resolve_concern(
                    concern, by=request.user, state=form.cleaned_data["state"], note=form.cleaned_data["note"]
                )
            except TransitionError as error:
                messages.error(request, error.message)
                return redirect("admin:review_concern_change", concern.pk)
            messages.success(request, gettext("Resolved: the listing stays as it is."))
            return redirect("admin:review_concern_changelist")
        messages.error(request, gettext("Choose how the report was resolved."))
        return redirect("admin:review_concern_change", concern.pk)
