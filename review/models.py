"""How an entry gets onto the map: submissions and their audit trail.

Only review/workflow.py changes a submission's state. Only review/audit.py writes an
Event, called by the review functions that change something (review.workflow,
review.listings, review.importing, review.emails).
"""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from registry.listing import Listing
from registry.models import Project


class SubmissionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=Submission.OPEN_STATES)

    def owned_by(self, user):
        return self.filter(owner=user)

    def storage_held(self):
        """Bytes the logos uploaded onto these submissions take in storage (thumbnails included)."""
        return self.aggregate(held=models.Sum("logo_bytes"))["held"] or 0


class Submission(Listing):
    """A founder's proposed version of a listing, with the full content."""

    class Kind(models.TextChoices):
        NEW = "new", _("New project")
        UPDATE = "update", _("Update")
        CLAIM = "claim", _("Claim")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATES = (
        State.DRAFT,
        State.SUBMITTED,
        State.IN_REVIEW,
        State.CHANGES_REQUESTED,
        State.APPROVED,
    )
    EDITABLE_STATES = (State.DRAFT, State.CHANGES_REQUESTED)

    # A draft may be saved before its track is chosen; submitting requires it.
    track = models.ForeignKey(
        "registry.Track",
        verbose_name=_("track"),
        on_delete=models.PROTECT,
        related_name="submissions",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.NEW)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("founder"),
        on_delete=models.PROTECT,
        related_name="submissions",
    )
    project = models.ForeignKey(
        "registry.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
        help_text=_("The listing this submission updates or claims; set on publication for new ones."),
    )
    claim_evidence = models.TextField(
        _("evidence"),
        blank=True,
        max_length=2000,
        help_text=_(
            "How the association can verify that you run this project, e.g. an email address at "
            "the website's domain, or a link to the team page that names you."
        ),
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned reviewers"),
        blank=True,
        related_name="assigned_submissions",
    )
    language = models.CharField(
        _("founder's language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Decision emails are written in this language."),
    )
    publish_at = models.DateTimeField(
        _("publish at"),
        null=True,
        blank=True,
        help_text=_("For new projects: a future time keeps the listing off the public site until then."),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # What the founder's upload takes in storage, logo and thumbnail, recorded when stored
    # (0 for no logo, or one copied from the listing): the storage quota counts it.
    logo_bytes = models.PositiveIntegerField(_("logo storage (bytes)"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(
                    state__in=["draft", "submitted", "in_review", "changes_requested", "approved"]
                ),
                name="review_submission_one_open_per_project",
                violation_error_message=_("This project already has an open submission."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind="new") | models.Q(project__isnull=False),
                name="review_submission_update_or_claim_has_project",
            ),
        ]
        indexes = [models.Index(fields=["owner", "state"], name="review_submission_owner_idx")]

    def __str__(self):
        return self.name or _("Untitled submission")

    def get_absolute_url(self):
        return reverse("review:submission-detail", kwargs={"pk": self.pk})

    @property
    def is_open(self):
        return self.state in self.OPEN_STATES

    @property
    def is_editable(self):
        return self.state in self.EDITABLE_STATES

    @property
    def latest_feedback(self):
        """The newest event carrying a note from someone other than the founder."""
        notes = [event for event in self.events.all() if event.note and event.actor_id != self.owner_id]
        return notes[-1] if notes else None

    @property
    def next_step(self):
        """What the founder should do or expect next, in one sentence."""
        return NEXT_STEPS[self.state]


NEXT_STEPS = {
    Submission.State.DRAFT: _("Complete the form and submit it for review."),
    Submission.State.SUBMITTED: _("Waiting for a reviewer from the association."),
    Submission.State.IN_REVIEW: _("A reviewer is looking at it; you will get an email with the decision."),
    Submission.State.CHANGES_REQUESTED: _("Read the reviewers' comments, edit, and submit again."),
    Submission.State.APPROVED: _("Approved: the editors will publish it shortly."),
    Submission.State.PUBLISHED: _("Published on the map."),
    Submission.State.REJECTED: _("Not accepted; the reason is below."),
    Submission.State.WITHDRAWN: _("Withdrawn by you."),
}


class EventQuerySet(models.QuerySet):
    def of_project(self, project):
        """A project's trail: its own events, and the publications of its submissions (which
        belong to the submission, so that deleting a project never needs its founders'
        history to go)."""
        return self.filter(
            models.Q(project=project) | models.Q(submission__project=project, action="publish")
        )


class Event(models.Model):
    """One line of the audit trail: who did what, when, from which state to which, which
    listing fields it changed. Append-only; written by review.audit only."""

    submission = models.ForeignKey(
        Submission,
        verbose_name=_("submission"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    project = models.ForeignKey(
        "registry.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="review_events",
    )
    action = models.CharField(_("action"), max_length=32)
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20, blank=True)
    note = models.TextField(_("note to the founder"), blank=True)
    detail = models.TextField(_("internal detail"), blank=True, help_text=_("Never shown to the founder."))
    changed_fields = models.JSONField(
        _("changed fields"),
        default=list,
        blank=True,
        help_text=_("The names of the listing fields the action changed."),
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(submission__isnull=False) | models.Q(project__isnull=False),
                name="review_event_has_subject",
            )
        ]
        # A founder's recent steps, for the abuse limits (review.workflow counts them).
        indexes = [models.Index(fields=["actor", "created_at"], name="review_event_actor_time_idx")]

    def __str__(self):
        return f"{self.action}: {self.from_state or '—'} → {self.to_state or '—'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Events are append-only; write a new one instead.")
        super().save(*args, **kwargs)

    @property
    def is_internal(self):
        """Staff-only steps (assignments, individual reviews) are left out of the founder's timeline."""
        return self.action in INTERNAL_ACTIONS

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def changed_field_labels(self):
        """The changed fields by their labels, in the current language."""
        labels = []
        for name in self.changed_fields:
            try:
                labels.append(str(Project._meta.get_field(name).verbose_name))
            except FieldDoesNotExist:
                labels.append(name)
        return labels

    def get_to_state_display(self):
        return Submission.State(self.to_state).label if self.to_state else ""


INTERNAL_ACTIONS = {"assign", "review", "mail_failed"}

ACTION_LABELS = {
    "create": _("Created"),
    "edit": _("Edited"),
    "submit": _("Submitted"),
    "withdraw": _("Withdrawn"),
    "start_review": _("Review started"),
    "request_changes": _("Changes requested"),
    "approve": _("Approved"),
    "reject": _("Rejected"),
    "publish": _("Published"),
    "unpublish": _("Unpublished"),
    "republish": _("Published again"),
    "publish_listing": _("Published by the editors"),
    "unknown_country": _("Country made unknown (its import gave none)"),
    "assign": _("Reviewer assigned"),
    "review": _("Reviewed"),
    "mail_failed": _("Email not delivered"),
    "import": _("Imported by the editors"),
    "import_update": _("Updated by an import"),
    "create_listing": _("Added by an editor"),
    "edit_listing": _("Edited by an editor"),
    "feature": _("Set as featured"),
    "unfeature": _("No longer featured"),
    "end_state": _("End state recorded by an editor"),
    "verify": _("Checked by an editor"),
    "confirm": _("Confirmed by its founder"),
    "concern_resolved": _("Report or link alert resolved"),
}


class Review(models.Model):
    """One reviewer's verdict on one submission."""

    class Recommendation(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REQUEST_CHANGES = "request_changes", _("Request changes")
        REJECT = "reject", _("Reject")

    SCORE_CHOICES = [(n, str(n)) for n in range(1, 6)]

    submission = models.ForeignKey(
        Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="reviews"
    )
    authenticity = models.PositiveSmallIntegerField(
        _("authenticity and verifiability"), choices=SCORE_CHOICES
    )
    innovation = models.PositiveSmallIntegerField(_("AI-nativeness and innovation"), choices=SCORE_CHOICES)
    completeness = models.PositiveSmallIntegerField(_("completeness and accuracy"), choices=SCORE_CHOICES)
    recommendation = models.CharField(_("recommendation"), max_length=20, choices=Recommendation.choices)
    comment = models.TextField(_("comment to the founder"), blank=True)
    internal_note = models.TextField(
        _("internal note"), blank=True, help_text=_("For the association only; never shown to the founder.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "reviewer"], name="review_review_one_per_reviewer"),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                    name=f"review_review_{name}_1_5",
                )
                for name in ("authenticity", "innovation", "completeness")
            ),
        ]

    def __str__(self):
        return f"{self.reviewer} on {self.submission}: {self.get_recommendation_display()}"

    @property
    def average(self):
        return round((self.authenticity + self.innovation + self.completeness) / 3, 1)


class Conflict(models.Model):
    """A reviewer's declared tie to a project, a submission or an organisation."""

    class Kind(models.TextChoices):
        EMPLOYMENT = "employment", _("Employment")
        INVESTMENT = "investment", _("Investment")
        ADVISORY = "advisory", _("Advisory")
        PERSONAL = "personal", _("Personal")
        COMPETITOR = "competitor", _("Competitor")
        OTHER = "other", _("Other")

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.CASCADE,
        related_name="conflicts",
    )
    project = models.ForeignKey(
        "registry.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflicts",
    )
    submission = models.ForeignKey(
        Submission,
        verbose_name=_("submission"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflicts",
    )
    organization = models.CharField(_("organisation"), max_length=120, blank=True)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    note = models.TextField(_("note"), blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("declared"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(project__isnull=False)
                | models.Q(submission__isnull=False)
                | ~models.Q(organization=""),
                name="review_conflict_has_subject",
            )
        ]

    def __str__(self):
        subject = self.project or self.submission or self.organization
        return f"{self.reviewer} – {subject} ({self.get_kind_display()})"


class ListImport(models.Model):
    """An uploaded list (CSV or XLSX, and a ZIP of logos) between its preview and its
    import; kept afterwards as the record of what came in, when, and from whom.
    The rules of importing are in review.importing."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed, not imported")
        APPLIED = "applied", _("Imported")
        DISCARDED = "discarded", _("Discarded")

    file_name = models.CharField(_("file"), max_length=255)
    data = models.BinaryField(_("content"))
    logos_name = models.CharField(_("logos ZIP"), max_length=255, blank=True)
    logos = models.BinaryField(_("logos"), null=True, blank=True)
    encoding = models.CharField(_("encoding"), max_length=16, default="auto")
    public_contact_emails = models.BooleanField(_("contact emails in the file are public"), default=False)
    # Where the list comes from: credited on every listing it brings (registry Project.source_*).
    source_name = models.CharField(_("source"), max_length=200, blank=True)
    source_url = models.URLField(_("source address"), max_length=300, blank=True)
    source_licence = models.CharField(_("source licence"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PREVIEWED)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # What review.importing.read_file took from the file (each row checked, each logo
    # decoded), kept from the upload to the import so that neither the preview nor the import
    # reads the file again; emptied once it is imported or discarded (`data` stays the record).
    plan = models.JSONField(_("plan"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="list_imports",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    applied_at = models.DateTimeField(_("imported"), null=True, blank=True)

    class Meta:
        verbose_name = _("list import")
        verbose_name_plural = _("list imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"#{self.pk} {self.file_name}"


class Concern(models.Model):
    """A reason to think a listing may no longer be true: a link check that kept failing, or a
    visitor's report. The editors' "maybe gone" queue; an editor resolves each one (review.lifecycle):
    nothing is closed automatically."""

    class Source(models.TextChoices):
        LINK_CHECK = "link_check", _("link check")
        REPORT = "report", _("visitor's report")

    class Kind(models.TextChoices):
        CLOSED = "closed", _("The project has closed")
        WRONG = "wrong", _("Something on the page is wrong")
        BROKEN_LINK = "broken_link", _("The website link is broken")
        UNREACHABLE = "unreachable", _("The website has not answered for days")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED_LISTING = "closed_listing", _("listing marked closed")
        FIXED = "fixed", _("handled")
        FALSE_ALARM = "false_alarm", _("false alarm")

    REPORT_KINDS = (Kind.CLOSED, Kind.WRONG, Kind.BROKEN_LINK)

    project = models.ForeignKey(
        "registry.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="concerns"
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    message = models.TextField(_("message"), blank=True, max_length=2000)
    reporter_email = models.EmailField(_("reporter's email"), blank=True)
    # A keyed digest of the reporter's address (never the address): the hourly limit counts it.
    reporter_key = models.CharField(max_length=32, blank=True, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("reported"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resolved_concerns",
    )
    resolution_note = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("maybe gone: report or link alert")
        verbose_name_plural = _("maybe gone: reports and link alerts")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "project"], name="review_concern_state_idx"),
            models.Index(fields=["reporter_key", "created_at"], name="review_concern_reporter_idx"),
        ]

    def __str__(self):
        return f"{self.project}: {self.get_kind_display()}"


class LinkCheck(models.Model):
    """The latest check of a published listing's website (review.linkjobs): one row per
    listing, apart from the listing itself so that checks never touch the public pages or
    their cache."""

    project = models.OneToOneField(
        "registry.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="link_check"
    )
    url = models.URLField(_("address checked"), max_length=300)
    checked_at = models.DateTimeField(_("checked"), db_index=True)
    ok = models.BooleanField(_("answered"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    final_url = models.CharField(_("final address"), max_length=2000, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    # An editor's false alarm silences the checks of this address (a new website starts again).
    silenced_url = models.URLField(_("silenced address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("link check")
        verbose_name_plural = _("link checks")

    def __str__(self):
        return f"{self.url}: {'ok' if self.ok else self.error}"


class PeriodicRun(models.Model):
    """When each periodic job (review.schedule.JOBS) is next due; the scheduler's tick task
    enqueues the due ones and moves this on, under a row lock (several workers, one run)."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name}: next {self.next_run_at:%Y-%m-%d %H:%M}"
