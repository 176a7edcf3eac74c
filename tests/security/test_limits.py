"""Limits the application keeps itself (issue 15): request bodies refused before they are
read, no mail to addresses without an account, fewer reset mails to one address, and the
same work for a sign-up whether its email has an account or not."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail

from tests.base import make_user

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}
MB = 1024 * 1024


def post_body(client, path, size, **extra):
    return client.generic(
        "POST", path, b"x" * size, content_type="application/octet-stream", headers=EN, **extra
    )


def test_a_20_mb_anonymous_upload_is_refused_before_it_is_read(client):
    users = get_user_model().objects.count()
    response = post_body(client, "/accounts/signup/", 20 * MB)
    assert response.status_code == 413
    assert "Too much data" in response.text and response["Connection"] == "close"
    assert get_user_model().objects.count() == users


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}, 413),  # no length given
        ({"CONTENT_LENGTH": "not-a-number"}, 413),
        ({"CONTENT_LENGTH": "-5"}, 200),  # nothing to read: the login form with its errors
    ],
)
def test_odd_lengths_are_refused_not_read(client, meta, expected):
    response = client.generic("POST", "/accounts/login/", b"", headers=EN, **meta)
    assert response.status_code == expected


def test_a_small_anonymous_form_still_works(client):
    response = client.post("/accounts/login/", {"login": "nobody@example.com", "password": "x"}, headers=EN)
    assert response.status_code == 200


def test_a_founder_may_send_a_form_with_a_logo_but_not_more(founder_client):
    # even a logo over its 2 MB gets to the form, for an error next to the field
    assert post_body(founder_client, "/my/submissions/new/", 3 * MB + 200_000).status_code != 413
    assert (
        post_body(founder_client, "/my/submissions/new/", settings.MAX_BODY_SIGNED_IN + 1).status_code == 413
    )


def test_staff_may_send_a_large_list_to_the_import_only(client):
    staff = make_user("editor", is_staff=True, is_superuser=True)
    client.force_login(staff)
    big = settings.MAX_BODY_SIGNED_IN + MB
    assert post_body(client, f"/{settings.ADMIN_URL}review/listimport/add/", big).status_code != 413
    assert post_body(client, f"/{settings.ADMIN_URL}registry/project/add/", big).status_code == 413


def test_no_reset_mail_goes_to_an_address_without_an_account(client):
    mail.outbox.clear()
    response = client.post("/accounts/password/reset/", {"email": "stranger@example.com"}, headers=EN)
    assert response.status_code == 302  # the same answer as for an account
    assert mail.outbox == []


def test_a_sign_up_with_a_known_email_hashes_a_password_like_a_new_one(client, monkeypatch):
    import aimap.forms

    hashed = []
    real = aimap.forms.make_password
    monkeypatch.setattr(aimap.forms, "make_password", lambda *args: hashed.append(args) or real(*args))
    user = make_user(email="taken@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    data = {
        "email": "taken@example.com",
        "password1": "Tea-kettle-orbit-93",
        "password2": "Tea-kettle-orbit-93",
    }
    response = client.post("/accounts/signup/", data, headers=EN)
    new = client.post("/accounts/signup/", {**data, "email": "new@example.com"}, headers=EN)
    assert response.status_code == new.status_code == 302
    assert response.url == new.url  # the same answer
    assert len(hashed) == 1  # the known email's path did the hashing a new account does
