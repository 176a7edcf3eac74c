"""Small builders shared by the tests: people and projects with sensible defaults.

Each test states only what matters to it: `make_project(name="客服宝", track="customer-service")`.
"""

import base64
import hashlib
import hmac
import importlib
import itertools
import secrets
import struct
import time
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from registry.models import Project, Track

_numbers = itertools.count(1)


def activate_totp(user):
    """Give `user` an authenticator app (allauth.mfa's TOTP, as its activation page stores
    one); returns the secret, for totp_code."""
    from allauth.mfa.models import Authenticator

    secret = base64.b32encode(secrets.token_bytes(20)).decode()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": secret})
    return secret


def totp_code(secret):
    """The authenticator app's code now (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits),
    computed here rather than by allauth; waits out the last 2 seconds of a step, so the
    code is still the current one when the server checks it."""
    if 30 - time.time() % 30 < 2:
        time.sleep(2.1)
    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def wrong_code(code):
    """A six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def make_user(username=None, **extra):
    number = next(_numbers)
    username = username or f"user{number}"
    extra.setdefault("email", f"{username}@example.com")
    return get_user_model().objects.create_user(username=username, password="correct horse battery", **extra)


def ensure_tracks():
    """Recreate the migration's fifteen tracks after a transactional test flushed them."""
    if not Track.objects.exists():
        migration = importlib.import_module("registry.migrations.0002_initial_tracks")
        migration.create_tracks(apps, None)


def track(slug="agents"):
    return Track.objects.get(slug=slug)


def make_project(*, published=True, track_slug="agents", secondary=(), **fields):
    """A valid project; published now unless told otherwise."""
    number = next(_numbers)
    fields.setdefault("name", f"Test project {number}")
    fields.setdefault("tagline", "A project made by a test")
    fields.setdefault("description", "First paragraph.\n\nSecond paragraph.")
    if published:  # as every writer publishes (Project.publish): first published then too
        at = fields.pop("published_at", None) or timezone.now() - timedelta(minutes=1)
        fields = {**Project.publication_values(at, fields.pop("first_published_at", None)), **fields}
    project = Project.objects.create(track=track(track_slug), **{"published": published, **fields})
    if secondary:
        project.secondary_tracks.set([track(slug) for slug in secondary])
    return project


def make_submission(owner, *, state="draft", kind="new", project=None, track_slug="agents", **fields):
    """A submission in any state, built directly (tests of the workflow itself use workflow calls)."""
    from review.models import Submission

    number = next(_numbers)
    fields.setdefault("name", f"Proposed project {number}")
    fields.setdefault("tagline", "A proposal made by a test")
    fields.setdefault("description", "What it does.\n\nWho it is for.")
    fields.setdefault("hq_city", "杭州")  # founders give their city and country (FOUNDER_REQUIRED)
    fields.setdefault("hq_country", "CN")
    return Submission.objects.create(
        owner=owner,
        state=state,
        kind=kind,
        project=project,
        track=track(track_slug) if track_slug else None,
        **fields,
    )


def content(*, draft=True, instance=None, files=None, **data):
    """A valid, bound submission form: the content argument of workflow calls."""
    from review.forms import SubmissionForm

    if "track" in data and isinstance(data["track"], str):
        data["track"] = track(data["track"]).pk
    data.setdefault("hq_country", "CN")
    data.setdefault("hq_city", "杭州")
    data.setdefault("status", "active")
    if instance is not None:
        data.setdefault("version", instance.version)
    form = SubmissionForm(data=data, files=files, instance=instance, draft=draft)
    assert form.is_valid(), form.errors
    return form


def text_of(response):
    """A response's body as text, streamed (downloads) or not."""
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")
