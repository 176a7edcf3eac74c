"""Small builders shared by the tests: people and projects with sensible defaults.

Each test states only what matters to it: `make_project(name="客服宝", track="customer-service")`.
"""

import importlib
import itertools
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from registry.models import Project, Track

_numbers = itertools.count(1)


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
    if published:
        fields.setdefault("published_at", timezone.now() - timedelta(minutes=1))
    project = Project.objects.create(track=track(track_slug), published=published, **fields)
    if secondary:
        project.secondary_tracks.set([track(slug) for slug in secondary])
    return project
