"""What became of a listing, and when it was last confirmed true (PRODUCT.md, "Keeping the
map true over time"). The review functions of a listing's life after publication:

- `record_end_state`: an editor records a pivot, an acquisition or a closure from evidence
  (the same rules as a founder's update: registry.listing.end_state_errors);
- `verify`: an editor checked the listing and found it true;
- `confirmation_link` / `confirm`: the founder's yearly one-click confirmation, through a
  signed link that expires, works once and changes nothing but `last_verified_at`;
- `report_problem`, `raise_link_alert`, `resolve_concern`: the editors' "maybe gone" queue
  (review.models.Concern), fed by visitors and by the link checks (review.linkjobs); an editor
  closes the listing with evidence, marks a false alarm (which silences that address's
  checks) or marks it handled. Nothing is ever closed automatically.

Like review.workflow's functions, each one takes the object first and the actor by keyword,
runs in one transaction, locks the row it changes, refuses with a `TransitionError` a person
can read, and writes its Event through review.audit.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.listing import END_STATE_FIELDS, ENDED, Status, end_state_errors, end_state_values
from registry.models import Project
from review import audit, emails
from review.listings import _lock
from review.models import Concern, LinkCheck
from review.workflow import TransitionError, _owner_language

CONFIRM_SALT = "aimap.review.lifecycle.confirm"


def _first_errors(errors):
    return {name: messages[0] for name, messages in errors.items()}


@transaction.atomic
def record_end_state(project, *, by, status, since=None, evidence="", acquired_by="", acquirer=None,
                     successor=None, concern=None):  # fmt: skip
    """An editor records what became of `project`, from evidence. `concern`: the report or
    link alert this answers (resolved with it). Recording an end state is an editor's check:
    the listing counts as verified now."""
    locked = _lock(project, by=by)
    if status not in Status.values:
        raise TransitionError(_("Choose a status."), errors={"status": _("Choose a status.")})
    values = end_state_values(
        {"status": status, "status_since": since, "status_evidence": (evidence or "").strip(),
         "acquired_by": (acquired_by or "").strip(), "acquirer": acquirer, "successor": successor}
    )  # fmt: skip
    errors = end_state_errors({**values, "founded_year": locked.founded_year}, listing_pk=locked.pk)
    if errors:
        raise TransitionError(_("The end state is not complete."), errors=_first_errors(errors))
    before = locked.status
    changed = [name for name in ("status", *END_STATE_FIELDS) if getattr(locked, name) != values[name]]
    for name in ("status", *END_STATE_FIELDS):
        setattr(locked, name, values[name])
    locked.last_verified_at = timezone.now()
    locked.save(update_fields=[*changed, "last_verified_at", "updated_at"])
    audit.record(
        project=locked, by=by, action="end_state", from_state=before, to_state=status,
        note=values["status_evidence"], changed_fields=changed,
    )  # fmt: skip
    if concern is not None:
        _resolve(concern, by=by, state=Concern.State.CLOSED_LISTING if status in ENDED else Concern.State.FIXED,
                 note=values["status_evidence"], project=locked)  # fmt: skip
    return locked


@transaction.atomic
def verify(project, *, by, note=""):
    """An editor checked the listing against its website and sources and found it true."""
    locked = _lock(project, by=by)
    locked.last_verified_at = timezone.now()
    locked.save(update_fields=["last_verified_at", "updated_at"])
    audit.record(project=locked, by=by, action="verify", detail=(note or "").strip())
    return locked


# --- The founder's yearly confirmation ----------------------------------------------------


def _stamp(project):
    """What a confirmation link is bound to: the listing's last verification (a link works
    once: confirming moves it) and its owner (a link outlives no change of owner)."""
    verified = project.last_verified_at.isoformat() if project.last_verified_at else ""
    return {"p": project.pk, "o": project.owner_id, "v": verified}


def confirmation_token(project):
    return signing.dumps(_stamp(project), salt=CONFIRM_SALT, compress=True)


def confirmation_link(project):
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse("review:confirm", args=[confirmation_token(project)])


class LinkRefused(TransitionError):
    """A confirmation link that cannot be used: `reason` is "invalid", "expired" or "used"."""

    def __init__(self, message, *, reason):
        super().__init__(message)
        self.reason = reason


def project_of(token, *, lock=False):
    """The listing a confirmation link is for, or LinkRefused (altered, expired or used);
    `lock`: its row locked until the transaction ends (two clicks at once confirm once)."""
    try:
        stamp = signing.loads(
            token, salt=CONFIRM_SALT, max_age=timedelta(days=settings.CONFIRMATION_LINK_DAYS)
        )
    except signing.SignatureExpired:
        raise LinkRefused(
            _("This confirmation link has expired. We send a new one with the next yearly email; you can also "
              "log in and propose an update of your listing."),
            reason="expired",
        ) from None  # fmt: skip
    except signing.BadSignature:
        raise LinkRefused(_("This confirmation link is not valid."), reason="invalid") from None
    if not isinstance(stamp, dict) or not isinstance(stamp.get("p"), int):
        raise LinkRefused(_("This confirmation link is not valid."), reason="invalid")
    projects = Project.objects.select_for_update() if lock else Project.objects
    project = projects.filter(pk=stamp["p"]).first()
    if project is None or not project.is_public or project.owner_id != stamp.get("o"):
        raise LinkRefused(_("This confirmation link is not valid."), reason="invalid")
    if _stamp(project) != stamp:
        raise LinkRefused(
            _("This confirmation link was already used: the listing has been confirmed since. Thank you."),
            reason="used",
        )
    return project


@transaction.atomic
def confirm(token):
    """The founder confirms "still operating, details correct": `last_verified_at` moves to
    now, nothing else changes. The link then no longer works."""
    locked = project_of(token, lock=True)
    locked.last_verified_at = timezone.now()
    locked.save(update_fields=["last_verified_at", "updated_at"])
    audit.record(project=locked, by=locked.owner, action="confirm")
    return locked


def due_for_confirmation(now=None):
    """Public listings with an owner, not verified for CONFIRMATION_EVERY_DAYS days and not
    asked within that time: the yearly email goes to their owners."""
    now = now or timezone.now()
    year_ago = now - timedelta(days=settings.CONFIRMATION_EVERY_DAYS)
    return (
        Project.objects.published()
        .filter(owner__isnull=False)
        .exclude(owner__email="")
        .filter(
            Q(last_verified_at__lt=year_ago)
            | Q(last_verified_at__isnull=True, first_published_at__lt=year_ago)
        )
        .filter(Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lt=year_ago))
        .order_by("last_verified_at", "pk")
    )


def request_confirmations(now=None, limit=None):
    """Send the yearly confirmation emails that are due (at most `limit`); returns how many.
    Each listing is marked as asked in the same transaction as its email is queued."""
    sent = 0
    for project in due_for_confirmation(now)[: limit or settings.CONFIRMATION_BATCH]:
        with transaction.atomic():
            asked = Project.objects.filter(
                pk=project.pk, confirmation_sent_at=project.confirmation_sent_at
            ).update(
                confirmation_sent_at=timezone.now()
            )  # an update, not save(): asking changes no public page
            if asked:
                emails.request_confirmation(
                    project, link=confirmation_link(project), language=_owner_language(project)
                )
                sent += 1
    return sent


# --- The "maybe gone" queue -------------------------------------------------------------


class TooManyReports(TransitionError):
    """More reports from one client than PROBLEM_REPORTS_PER_HOUR allows (the view answers 429)."""


def reporter_key(address):
    """A keyed digest of a client address: reports from one client can be counted, and the
    address itself is never stored."""
    return hashlib.blake2b(
        (address or "").encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=16
    ).hexdigest()


@transaction.atomic
def report_problem(project, *, kind, message="", email="", reporter=""):
    """A visitor says the listing is closed, wrong or has a broken link: a Concern for the
    editors. `reporter`: reporter_key() of the client, limited to PROBLEM_REPORTS_PER_HOUR."""
    if kind not in Concern.REPORT_KINDS:
        raise TransitionError(_("Choose what is wrong."), errors={"kind": _("Choose what is wrong.")})
    if not project.is_public:
        raise TransitionError(_("Only listings on the map can be reported."))
    hour_ago = timezone.now() - timedelta(hours=1)
    if reporter and Concern.objects.filter(reporter_key=reporter, created_at__gte=hour_ago).count() >= (
        settings.PROBLEM_REPORTS_PER_HOUR
    ):
        raise TooManyReports(_("You have sent many reports in the last hour. Please try again later."))
    return Concern.objects.create(
        project=project, source=Concern.Source.REPORT, kind=kind, message=(message or "").strip()[:2000],
        reporter_email=(email or "").strip(), reporter_key=reporter,
    )  # fmt: skip


def raise_link_alert(project_id, *, error):
    """The link checks found the website failing for long enough: one open alert per listing."""
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project_id).first()  # one alert, whoever asks
        exists = Concern.objects.filter(
            project_id=project_id, source=Concern.Source.LINK_CHECK, state=Concern.State.OPEN
        ).exists()
        if exists:
            return None
        return Concern.objects.create(
            project_id=project_id, source=Concern.Source.LINK_CHECK, kind=Concern.Kind.UNREACHABLE,
            message=error[:2000],
        )  # fmt: skip


def _resolve(concern, *, by, state, note, project):
    locked = Concern.objects.select_for_update().get(pk=concern.pk)
    if locked.state != Concern.State.OPEN:
        raise TransitionError(_("This report was already resolved."))
    locked.state, locked.resolved_by, locked.resolved_at = state, by, timezone.now()
    locked.resolution_note = (note or "").strip()
    locked.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note"])
    audit.record(project=project, by=by, action="concern_resolved", to_state=state,
                 detail=f"{locked.get_source_display()}: {locked.get_kind_display()}. {locked.resolution_note}".strip())  # fmt: skip
    return locked


@transaction.atomic
def resolve_concern(concern, *, by, state, note=""):
    """An editor answers a report or link alert without closing the listing: handled (the
    page was corrected, or nothing was wrong) or a false alarm (the website works: its checks
    are silenced for that address)."""
    if state not in (Concern.State.FIXED, Concern.State.FALSE_ALARM):
        raise TransitionError(_("Choose how the report was resolved."))
    project = _lock(concern.project, by=by)
    resolved = _resolve(concern, by=by, state=state, note=note, project=project)
    if state == Concern.State.FALSE_ALARM and concern.source == Concern.Source.LINK_CHECK:
        LinkCheck.objects.filter(project=project).update(
            silenced_url=project.website, failures=0, failing_since=None
        )
    return resolved


# --- The founder's record, for reviewers ------------------------------------------------------


def founders_other_listings(submission):
    """The other listings on the map owned by `submission`'s founder, oldest first, and what
    became of them: reviewers see "old faces with new projects" for what they are."""
    return list(
        Project.objects.filter(owner=submission.owner_id, first_published_at__isnull=False)
        .exclude(pk=submission.project_id or 0)
        .only("pk", "slug", "name", "name_en", "status", "status_since", "first_published_at", "published")
        .order_by("first_published_at", "pk")
    )


def record_summary(listings):
    """{"count": n, "ended": [(status label, "YYYY-MM"), ...], "active": m} of founders_other_listings."""
    ended = [
        (Status(listing.status).label, listing.status_since.strftime("%Y-%m") if listing.status_since else "")
        for listing in listings
        if listing.status in ENDED
    ]
    return {"count": len(listings), "ended": ended, "active": len(listings) - len(ended)}
