"""The association's side of the review: the queue, a submission's page, conflicts; the
projects on the map (review/project_admin.py) and the list imports (review/import_admin.py).

Every button on a submission's page posts to a small view here that makes one
review.workflow call and turns a refusal (TransitionError) into an error message, then
goes back to the page. Nothing in the admin assigns a state or writes an Event: the
review functions do (review.workflow, review.listings, review.importing), each writing
its Event through review.audit, and they decide who may do what. The admin only decides
what each person sees and which function a button or a form calls.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from review import (
    concern_admin,  # noqa: F401 (registers the "maybe gone" queue)
    exports,
    import_admin,  # noqa: F401 (registers the list imports' admin)
    lifecycle,
    project_admin,  # noqa: F401 (registers the projects' admin)
    workflow,
)
from review.admin_forms import (
    STAFF_ACTIONS,
    AssignForm,
    ConflictAdminForm,
    ConflictDeclarationForm,
    ReviewForm,
    TransitionForm,
    reviewers,
    staff_members,
)
from review.comparison import listing_rows
from review.duplicates import likely_duplicates
from review.models import Conflict, Review, Submission
from review.queue import AssignedToMeFilter, AwaitingMyReviewFilter, conflicts_touching
from review.roles import ASSIGNED, EDITOR, is_conflicted, is_editor, is_staff_member, roles
from review.workflow import TransitionError

State = Submission.State

BUTTONS = {
    "start_review": gettext_lazy("Start review"),
    "request_changes": gettext_lazy("Request changes"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "publish": gettext_lazy("Publish"),
}


# One workflow call per button, fed by the button's TransitionForm.
TRANSITION_CALLS = {
    "start_review": lambda submission, by, data: workflow.start_review(
        submission, by=by, expected_version=data["version"]
    ),
    "request_changes": lambda submission, by, data: workflow.request_changes(
        submission, by=by, comment=data["text"], expected_version=data["version"]
    ),
    "approve": lambda submission, by, data: workflow.approve(
        submission, by=by, note=data["text"], expected_version=data["version"]
    ),
    "reject": lambda submission, by, data: workflow.reject(
        submission, by=by, reason=data["text"], expected_version=data["version"]
    ),
    "publish": lambda submission, by, data: workflow.publish(
        submission, by=by, publish_at=data.get("publish_at"), expected_version=data["version"]
    ),
}


# --- Submissions -----------------------------------------------------------------------


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "state",
        "track",
        "founder",
        "submitted_at",
        "approvals",
        "assigned_reviewers",
    ]
    list_filter = ["state", "track", "kind", AssignedToMeFilter, AwaitingMyReviewFilter]
    list_select_related = ["track", "owner"]
    search_fields = ["name", "name_en", "organization", "website", "owner__email"]
    actions = ["start_review_of_selected", "publish_selected", "export_csv", "export_xlsx"]
    view_on_site = False  # a submission's own URL is the founder's page
    fieldsets = [
        (None, {"fields": ["kind", "state", "owner", "project", "claim_evidence", "language"]}),
        (
            gettext_lazy("Dates"),
            {"fields": ["created_at", "submitted_at", "updated_at", "publish_at", "version"]},
        ),
    ]

    # Everyone reads; nobody writes through the admin's own form. Content is the founder's,
    # and every change the association makes goes through a button and review.workflow.
    def has_module_permission(self, request):
        return is_staff_member(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_staff_member(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.kind == Submission.Kind.CLAIM:
            return self.fieldsets
        first, dates = self.fieldsets
        return [(None, {"fields": [name for name in first[1]["fields"] if name != "claim_evidence"]}), dates]

    def get_queryset(self, request):
        approvals = (
            Review.objects.filter(submission=OuterRef("pk"), recommendation=Review.Recommendation.APPROVE)
            .values("submission")
            .annotate(count=Count("pk"))
            .values("count")
        )
        # A draft is the founder's until it is submitted: no staff member reads it.
        return (
            super()
            .get_queryset(request)
            .exclude(state=Submission.State.DRAFT)
            .annotate(approval_count=Coalesce(Subquery(approvals, output_field=IntegerField()), 0))
            .prefetch_related("reviewers")
        )

    @admin.display(description=gettext_lazy("founder"), ordering="owner__email")
    def founder(self, submission):
        return submission.owner.email or submission.owner.get_username()

    @admin.display(description=gettext_lazy("approvals"), ordering="approval_count")
    def approvals(self, submission):
        return submission.approval_count

    @admin.display(description=gettext_lazy("assigned reviewers"))
    def assigned_reviewers(self, submission):
        return ", ".join(reviewer.get_username() for reviewer in submission.reviewers.all())

    # --- The change page: everything to judge it, and the buttons ------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        submission = self.get_object(request, object_id)
        if submission is not None and self.has_view_permission(request, submission):
            extra_context = {**(extra_context or {}), **self.page_context(request, submission)}
        return super().change_view(request, object_id, form_url, extra_context)

    def page_context(self, request, submission):
        user = request.user
        held = roles(user, submission)
        conflicted = is_conflicted(user, submission)
        compared_with = submission.project if submission.kind == Submission.Kind.UPDATE else None
        duplicate_projects, duplicate_submissions = likely_duplicates(submission)
        return {
            "submission": submission,
            "rows": listing_rows(submission, compared_with),
            "compared_with": compared_with,
            "duplicate_projects": duplicate_projects,
            "duplicate_submissions": duplicate_submissions,
            "founders_listings": (founders := lifecycle.founders_other_listings(submission)),
            "founders_record": lifecycle.record_summary(founders),
            "reviews": submission.reviews.select_related("reviewer"),
            "events": submission.events.select_related("actor"),
            "show_internal": not conflicted,
            "conflicted": conflicted,
            "my_conflicts": conflicts_touching(user, submission),
            "approvals_required": settings.REVIEW_APPROVALS_REQUIRED,
            "transitions": self.transition_forms(submission, user),
            "review_form": self.review_form(submission, user, held),
            "assign_form": self.assign_form(submission, held),
            "conflict_form": ConflictDeclarationForm(
                submission=submission, for_others=is_editor(user), auto_id="id_conflict_%s"
            ),
            "urls": {
                name: reverse(f"admin:review_submission_{name}", args=[submission.pk])
                for name in ("review", "assign", "conflict")
            },
        }

    def transition_forms(self, submission, user):
        allowed = [action for action in workflow.allowed_actions(submission, user) if action in STAFF_ACTIONS]
        return [
            {
                "action": action,
                "button": BUTTONS[action],
                "url": reverse("admin:review_submission_transition", args=[submission.pk, action]),
                "form": TransitionForm(
                    action=action,
                    submission=submission,
                    initial={"version": submission.version},
                    auto_id=f"id_{action}_%s",
                ),
            }
            for action in allowed
        ]

    def review_form(self, submission, user, held):
        if ASSIGNED not in held or submission.state != State.IN_REVIEW:
            return None
        mine = submission.reviews.filter(reviewer=user).first()
        initial = {"version": submission.version}
        if mine is not None:  # they change their mind: start from what they wrote
            initial.update({name: getattr(mine, name) for name in ReviewForm.REVIEW_FIELDS})
        return ReviewForm(initial=initial, auto_id="id_review_%s")

    def assign_form(self, submission, held):
        if EDITOR not in held or submission.state not in (State.SUBMITTED, State.IN_REVIEW):
            return None
        assigned = {reviewer.pk for reviewer in submission.reviewers.all()}
        available = [
            reviewer.pk
            for reviewer in reviewers()
            if reviewer.pk not in assigned and not is_conflicted(reviewer, submission)
        ]
        return AssignForm(
            initial={"version": submission.version},
            choices=reviewers().filter(pk__in=available),
            auto_id="id_assign_%s",
        )

    # --- The buttons' views ------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/act/<slug:action>/",
                view(self.transition_view),
                name="review_submission_transition",
            ),
            path("<int:pk>/review/", view(self.review_view), name="review_submission_review"),
            path("<int:pk>/assign/", view(self.assign_view), name="review_submission_assign"),
            path("<int:pk>/conflict/", view(self.conflict_view), name="review_submission_conflict"),
            *super().get_urls(),
        ]

    def submission_for(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Submission, pk=pk)

    def back_to(self, submission):
        return redirect("admin:review_submission_change", submission.pk)

    def attempt(self, request, call, success):
        """Make one workflow call; a refusal becomes an error message. True when it went through."""
        try:
            call()
        except TransitionError as error:
            messages.error(request, error.message)
            return False
        messages.success(request, success() if callable(success) else success)
        return True

    def refuse_form(self, request, form):
        errors = "; ".join(str(message) for messages_ in form.errors.values() for message in messages_)
        messages.error(request, _("Nothing was changed: %(errors)s") % {"errors": errors})

    @method_decorator(require_POST)
    def transition_view(self, request, pk, action):
        submission = self.submission_for(request, pk)
        if action not in STAFF_ACTIONS:
            raise Http404
        form = TransitionForm(request.POST, action=action, submission=submission)
        if not form.is_valid():
            self.refuse_form(request, form)
            return self.back_to(submission)
        data = form.cleaned_data
        call = TRANSITION_CALLS[action]

        def done():
            submission.refresh_from_db()
            return _("“%(name)s” is now %(state)s.") % {
                "name": submission,
                "state": submission.get_state_display().lower(),
            }

        self.attempt(request, lambda: call(submission, request.user, data), done)
        return self.back_to(submission)

    @method_decorator(require_POST)
    def review_view(self, request, pk):
        submission = self.submission_for(request, pk)
        form = ReviewForm(request.POST)
        if not form.is_valid():
            self.refuse_form(request, form)
            return self.back_to(submission)
        data = form.cleaned_data

        def record():
            workflow.record_review(
                submission,
                by=request.user,
                expected_version=data["version"],
                **{name: data[name] for name in ReviewForm.REVIEW_FIELDS},
            )

        self.attempt(request, record, _("Your review is saved."))
        return self.back_to(submission)

    @method_decorator(require_POST)
    def assign_view(self, request, pk):
        submission = self.submission_for(request, pk)
        form = AssignForm(request.POST)
        if not form.is_valid():
            self.refuse_form(request, form)
            return self.back_to(submission)
        reviewer = form.cleaned_data["reviewer"]

        def assign():
            workflow.assign(
                submission, by=request.user, reviewer=reviewer, expected_version=form.cleaned_data["version"]
            )

        self.attempt(request, assign, _("%(name)s is assigned.") % {"name": reviewer.get_username()})
        return self.back_to(submission)

    @method_decorator(require_POST)
    def conflict_view(self, request, pk):
        submission = self.submission_for(request, pk)
        form = ConflictDeclarationForm(
            request.POST, submission=submission, for_others=is_editor(request.user)
        )
        if not form.is_valid():
            self.refuse_form(request, form)
            return self.back_to(submission)
        data = form.cleaned_data
        subject = {
            "submission": {"submission": submission},
            "project": {"project": submission.project},
            "organization": {"organization": submission.organization},
        }[data["subject"]]
        self.attempt(
            request,
            lambda: workflow.declare_conflict(
                by=request.user,
                reviewer=data.get("reviewer") or request.user,
                kind=data["kind"],
                note=data["note"],
                **subject,
            ),
            _("The conflict of interest is recorded."),
        )
        return self.back_to(submission)

    # --- Editors' exports, review state included (review.exports) --------------------------

    def has_export_permission(self, request):
        """Exports carry what the public never sees (contact addresses, owners): editors only."""
        return is_editor(request.user)

    def _export(self, queryset, file_format):
        rows = exports.submission_rows(queryset)
        return exports.response("submissions", exports.SUBMISSION_COLUMNS, rows, file_format)

    @admin.action(description=gettext_lazy("Export the selected submissions (CSV)"), permissions=["export"])
    def export_csv(self, request, queryset):
        return self._export(queryset, "csv")

    @admin.action(description=gettext_lazy("Export the selected submissions (XLSX)"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        return self._export(queryset, "xlsx")

    # --- Bulk actions: each submission through the same workflow call ---------------------

    def has_publish_permission(self, request):
        """Whether the bulk "publish" is offered; the workflow still judges each submission."""
        return is_editor(request.user)

    def each(self, request, queryset, call, done_message):
        """Call the workflow for each selected submission; one message for the ones done,
        one per refusal with its reason."""
        done = []
        for submission in queryset.order_by("pk"):
            try:
                call(submission)
            except TransitionError as error:
                messages.error(request, f"“{submission}”: {error.message}")
            else:
                done.append(f"“{submission}”")
        if done:
            messages.success(request, done_message % {"names": ", ".join(done)})

    @admin.action(description=gettext_lazy("Start the review of the selected submissions"))
    def start_review_of_selected(self, request, queryset):
        self.each(
            request,
            queryset,
            lambda submission: workflow.start_review(submission, by=request.user),
            _("Review started: %(names)s."),
        )

    @admin.action(description=gettext_lazy("Publish the selected submissions"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        self.each(
            request,
            queryset,
            lambda submission: workflow.publish(submission, by=request.user),
            _("Published: %(names)s."),
        )


# --- Conflicts of interest ---------------------------------------------------------------


@admin.register(Conflict)
class ConflictAdmin(admin.ModelAdmin):
    """Reviewers see and declare their own conflicts; editors see all and declare for anyone.
    A conflict is declared through review.workflow (which takes the reviewer off what it
    touches), and never edited afterwards."""

    form = ConflictAdminForm
    list_display = ["reviewer", "subject", "kind", "declared_by", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["reviewer", "project", "submission", "declared_by"]
    search_fields = [
        "reviewer__username",
        "reviewer__email",
        "organization",
        "project__name",
        "submission__name",
    ]
    autocomplete_fields = ["project", "submission"]
    fields = ["reviewer", "kind", "project", "submission", "organization", "note"]

    def has_module_permission(self, request):
        return is_staff_member(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        mine = obj is None or obj.reviewer_id == request.user.pk or is_editor(request.user)
        return is_staff_member(request.user) and mine and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_staff_member(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return is_editor(request.user) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        conflicts = super().get_queryset(request)
        return conflicts if is_editor(request.user) else conflicts.filter(reviewer=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "reviewer":
            kwargs["queryset"] = (
                staff_members() if is_editor(request.user) else staff_members().filter(pk=request.user.pk)
            )
            kwargs["initial"] = request.user.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("Conflict with"))
    def subject(self, conflict):
        return conflict.project or conflict.submission or conflict.organization

    def save_model(self, request, obj, form, change):
        try:
            conflict = workflow.declare_conflict(
                by=request.user,
                reviewer=obj.reviewer,
                kind=obj.kind,
                project=obj.project,
                submission=obj.submission,
                organization=obj.organization,
                note=obj.note,
            )
        except TransitionError as error:  # the form mirrors the rules; this is a forged POST
            raise PermissionDenied(error.message) from error
        obj.pk, obj.declared_by, obj.created_at = conflict.pk, conflict.declared_by, conflict.created_at
        obj._state.adding = False
