"""Drafts cannot fill the disk with logos (issue 15): a logo replaced or cleared on a save
is deleted with its thumbnail once the save has committed, unless a listing or another
submission still shows it; and what a founder's drafts and pending submissions hold is
kept under FOUNDER_STORAGE_MB (decision 0021)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from registry.images import thumbnail_name
from review import workflow
from review.models import Submission
from review.workflow import TransitionError
from tests.base import content, make_project
from tests.imagefiles import encoded, noise
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


# --- Each founder has a storage quota (FOUNDER_STORAGE_MB) ----------------------------------


def big_logo():
    """Random pixels: about 750 KB once stored (logo and thumbnail), whatever its name."""
    return SimpleUploadedFile("big.png", encoded(noise((800, 800)), "PNG"), content_type="image/png")


def post(client, submission=None, **data):
    url = (
        reverse("review:submission-edit", args=[submission.pk])
        if submission
        else reverse("review:submission-new")
    )
    if submission:
        data.setdefault("version", Submission.objects.get(pk=submission.pk).version)
    return client.post(url, {"action": "save", **data}, headers={"accept-language": "en"})


def files_stored():
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


def logo_field(page):
    return page.split('id="div_id_logo"', 1)[1].split('id="div_id_', 1)[0]


def test_the_size_a_logo_takes_is_recorded_as_stored(founder_client, founder):
    assert post(founder_client, name="Sized", logo=big_logo()).status_code == 302

    draft = Submission.objects.get(owner=founder)
    stored_bytes = default_storage.size(draft.logo.name) + default_storage.size(
        thumbnail_name(draft.logo.name)
    )
    assert draft.logo_bytes == stored_bytes > 500_000


@override_settings(FOUNDER_STORAGE_MB=1)
def test_an_upload_over_the_founders_quota_is_refused_next_to_the_logo_field(founder_client, founder):
    assert post(founder_client, name="First", logo=big_logo()).status_code == 302
    before = files_stored()

    response = post(founder_client, name="Second, typed with care", tagline="Kept", logo=big_logo())

    assert response.status_code == 200
    assert "the 1 MB your drafts and submissions awaiting review may hold" in logo_field(response.text)
    assert "Second, typed with care" in response.text and "Kept" in response.text
    assert not Submission.objects.filter(name__startswith="Second").exists()
    assert files_stored() == before  # nothing stored, nothing left behind

    draft = Submission.objects.get(name="First")
    response = post(founder_client, draft, name="First, renamed", logo=big_logo())
    assert response.status_code == 302  # a replaced logo does not count twice


@override_settings(FOUNDER_STORAGE_MB=1)
def test_the_quota_counts_pending_submissions_not_published_ones_nor_other_founders(
    founder_client, founder, other_founder, client
):
    assert post(founder_client, name="Pending", logo=big_logo()).status_code == 302
    pending = Submission.objects.get(name="Pending")
    Submission.objects.filter(pk=pending.pk).update(state=Submission.State.SUBMITTED)
    assert post(founder_client, name="Refused", logo=big_logo()).status_code == 200

    Submission.objects.filter(pk=pending.pk).update(state=Submission.State.PUBLISHED)  # the map's now
    assert post(founder_client, name="Accepted", logo=big_logo()).status_code == 302

    client.force_login(other_founder)
    assert post(client, name="Theirs", logo=big_logo()).status_code == 302


@override_settings(FOUNDER_STORAGE_MB=1)
def test_the_workflow_holds_the_quota_too(founder):
    workflow.create(by=founder, content=content(name="One", files={"logo": big_logo()}))

    with pytest.raises(TransitionError) as refused:
        workflow.create(by=founder, content=content(name="Two", files={"logo": big_logo()}))

    assert "logo" in refused.value.errors and not Submission.objects.filter(name="Two").exists()
