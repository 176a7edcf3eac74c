"""Drafts cannot fill the disk with logos (issue 15): a logo replaced or cleared on a save
is deleted with its thumbnail once the save has committed, unless a listing or another
submission still shows it."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.images import thumbnail_name
from review.models import Submission
from tests.base import make_project
from tests.review.import_files import plain

pytestmark = pytest.mark.django_db


def logo(colour):
    return SimpleUploadedFile(
        "logo.png", plain("PNG", size=(96, 96), colour=colour), content_type="image/png"
    )


def save_draft(client, submission=None, **files):
    url = (
        reverse("review:submission-edit", args=[submission.pk])
        if submission
        else reverse("review:submission-new")
    )
    data = {"name": "Logo Test", "action": "save", **files}
    if submission:
        data["version"] = submission.version
    response = client.post(url, data)
    assert response.status_code == 302
    return Submission.objects.get(name="Logo Test")


def stored(name):
    return default_storage.exists(name) and default_storage.exists(thumbnail_name(name))


def test_a_replaced_logo_and_its_thumbnail_are_deleted_after_the_save(
    founder_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draft = save_draft(founder_client, logo=logo("red"))
    first = draft.logo.name
    assert stored(first)
    with django_capture_on_commit_callbacks(execute=True):
        draft = save_draft(founder_client, draft, logo=logo("blue"))
    assert draft.logo.name != first and stored(draft.logo.name)
    assert not default_storage.exists(first) and not default_storage.exists(thumbnail_name(first))

    second = draft.logo.name
    with django_capture_on_commit_callbacks(execute=True):
        draft = save_draft(founder_client, draft, **{"logo-clear": "on"})
    assert draft.logo.name == "" and not default_storage.exists(second)


def test_a_logo_a_listing_still_shows_is_kept(founder_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = save_draft(founder_client, logo=logo("green"))
    shared = draft.logo.name
    make_project(logo=shared)  # e.g. published from this submission earlier
    with django_capture_on_commit_callbacks(execute=True):
        save_draft(founder_client, draft, logo=logo("yellow"))
    assert stored(shared)
