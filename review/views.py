"""Founder pages: the dashboard, the submission form, updates and claims.

Each view loads what belongs to this founder (404 for anyone else's), binds a form,
makes one workflow call and redirects. Refused transitions come back as messages.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from registry.listing import copy_listing
from registry.models import Project
from review import workflow
from review.forms import ClaimEvidenceForm, ClaimForm, SubmissionForm, WithdrawForm
from review.models import INTERNAL_ACTIONS, Event, Submission
from review.workflow import TransitionError

SUBMIT = "submit"


def _own_submission(request, pk):
    return get_object_or_404(Submission.objects.select_related("track", "project"), pk=pk, owner=request.user)


def _wants_submit(request):
    return request.POST.get("action") == SUBMIT


def _saved_message(request, submission):
    if submission.state == Submission.State.SUBMITTED:
        messages.success(request, _("Submitted. The association will review it; you will get an email."))
    else:
        messages.success(request, _("Draft saved."))


def _submission_form_page(request, *, instance=None, initial=None, save, context):
    """GET: the form. POST: bind it (a draft unless "submit" was pressed), and when it is
    valid make the one workflow call `save(form, submit=...)`; a refusal shows on the form."""
    wants_submit = _wants_submit(request)
    if request.method != "POST":
        form = SubmissionForm(instance=instance, initial=initial, draft=True)
        return _render_form(request, form, context)
    refusal = _save_limit(request.user)
    # Over the limit, a posted logo is not even decoded: the form comes back with what was typed.
    files = None if refusal else request.FILES
    form = SubmissionForm(request.POST, files, instance=instance, draft=not wants_submit)
    if refusal is None and form.is_valid():
        try:
            submission = save(form, submit=wants_submit)
        except TransitionError as error:
            refusal = error
        else:
            _saved_message(request, submission)
            return redirect(submission)
    if refusal is not None:
        form.add_transition_error(refusal)
    return _render_form(request, form, context, refusal=refusal)


def _save_limit(founder):
    """The SaveLimitError a save by `founder` would meet now, or None."""
    try:
        workflow.check_save_rate(founder)
    except workflow.SaveLimitError as error:
        return error
    return None


def _render_form(request, form, context, *, refusal=None):
    status = 429 if isinstance(refusal, workflow.SaveLimitError) else 200
    context = {"form": form, "submission": None, **context}
    return render(request, "review/submission_form.html", context, status=status)


@login_required
@require_safe
def dashboard(request):
    submissions = (
        Submission.objects.owned_by(request.user)
        .select_related("track", "project")
        .prefetch_related("events")
    )
    projects = list(Project.objects.filter(owner=request.user).select_related("track").order_by("name"))
    # Why and when a project was taken off the map: the latest unpublish in its audit trail.
    taken_down = {}
    for event in Event.objects.filter(project__in=projects, action="unpublish").order_by("created_at", "pk"):
        taken_down[event.project_id] = event
    for project in projects:
        project.take_down = taken_down.get(project.pk) if project.public_state == "taken_down" else None
    return render(request, "review/dashboard.html", {"submissions": submissions, "projects": projects})


@login_required
@require_http_methods(["GET", "POST"])
def submission_new(request):
    def save(form, *, submit):
        step = workflow.create_and_submit if submit else workflow.create
        return step(by=request.user, content=form)

    return _submission_form_page(request, save=save, context={})


@login_required
@require_safe
def submission_detail(request, pk):
    submission = _own_submission(request, pk)
    context = {
        "submission": submission,
        "events": submission.events.exclude(action__in=INTERNAL_ACTIONS).select_related("actor"),
        "withdraw_form": WithdrawForm(),
        "missing": [
            Submission._meta.get_field(name).verbose_name
            for name in (workflow.missing_for_submission(submission) if submission.is_editable else {})
        ],
    }
    return render(request, "review/submission_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def submission_edit(request, pk):
    submission = _own_submission(request, pk)
    if not submission.is_editable:
        messages.error(
            request,
            _("A submission that is %(state)s cannot be edited.") % {"state": submission.get_state_display()},
        )
        return redirect(submission)

    def save(form, *, submit):
        step = workflow.save_and_submit if submit else workflow.save_draft
        return step(submission, by=request.user, content=form, expected_version=form.expected_version)

    if submission.kind == Submission.Kind.CLAIM:
        return _claim_evidence_page(request, submission, save)
    return _submission_form_page(request, instance=submission, save=save, context={"submission": submission})


def _claim_evidence_page(request, submission, save):
    """A claim sent back for changes: its evidence only, sent again with one button."""
    form = ClaimEvidenceForm(request.POST or None, instance=submission)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form, submit=True)
        except TransitionError as error:
            form.add_transition_error(error)
        else:
            _saved_message(request, saved)
            return redirect(saved)
    return render(
        request, "review/project_claim.html", {"form": form, "project": submission.project, "resend": True}
    )


@login_required
@require_POST
def submission_submit(request, pk):
    submission = _own_submission(request, pk)
    try:
        workflow.submit(submission, by=request.user, expected_version=_posted_version(request))
    except TransitionError as error:
        messages.error(request, error.message)
        for message in error.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, _("Submitted. The association will review it; you will get an email."))
    return redirect(submission)


@login_required
@require_POST
def submission_withdraw(request, pk):
    submission = _own_submission(request, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say briefly why you withdraw it."))
        return redirect(submission)
    try:
        workflow.withdraw(
            submission,
            by=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=_posted_version(request),
        )
    except TransitionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Withdrawn."))
    return redirect(submission)


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, slug):
    project = get_object_or_404(Project, slug=slug, owner=request.user)
    pending = project.submissions.open().filter(owner=request.user).first()
    if pending is not None:
        messages.info(request, _("This project already has an open submission; continue with it."))
        return redirect(pending)

    def save(form, *, submit):
        return workflow.start_update(project, by=request.user, content=form, and_submit=submit)

    return _submission_form_page(
        request,
        instance=_proposal_from(project),
        initial={"secondary_tracks": project.secondary_tracks.all()},
        save=save,
        context={"project": project},
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_claim(request, slug):
    project = get_object_or_404(Project.objects.published(), slug=slug)
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = workflow.claim(
                project, by=request.user, evidence=form.cleaned_data["claim_evidence"]
            )
        except TransitionError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your claim is submitted. The association will check it."))
            return redirect(submission)
    return render(request, "review/project_claim.html", {"form": form, "project": project})


def _proposal_from(project):
    """An unsaved submission holding the project's live content, to prefill the form."""
    proposal = Submission(kind=Submission.Kind.UPDATE, project=project)
    copy_listing(project, proposal)
    return proposal


def _posted_version(request):
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None
