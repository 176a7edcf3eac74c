"""Founders' accounts: sign-up with a verified email, log in and out, password reset,
and the brakes on password guessing (django-axes, allauth's rate limits).

Every request reads the site in English (`accept-language: en`), so the messages
asserted here are the source strings.
"""

import re

import pytest
from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from tests.base import make_user

EN = {"headers": {"accept-language": "en"}}
PASSWORD = "correct horse battery"  # tests.base.make_user's
NEW_PASSWORD = "Tea-kettle-orbit-93"
LOGIN_URL = "/accounts/login/"
ADMIN_LOGIN_URL = "/admin/login/"
LOCKOUT_TEMPLATE = "account/lockout.html"
LOCKOUT_HEADING = "Too many failed log-in attempts"


@pytest.fixture(autouse=True)
def fresh_limits(db):
    """allauth counts attempts in the cache, which outlives a test; axes' rows roll back.

    Asking for `db` here also sets the test database up before `mailoutbox` is taken:
    on a session's first test that order keeps `mailoutbox` the live `mail.outbox`.
    """
    cache.clear()
    yield
    cache.clear()


def verified_founder(username="lin", email=None):
    user = make_user(username, **({"email": email} if email else {}))
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def link_in(message, path_prefix):
    """The path of the first link in `message` under `path_prefix` (the host is not ours to test)."""
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+)", message.body)
    assert match, f"no {path_prefix} link in:\n{message.body}"
    return match.group(1)


def log_in(client, login, password):
    return client.post(LOGIN_URL, {"login": login, "password": password}, **EN)


def is_logged_in(client):
    response = client.get("/my/", **EN)
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)
    return False


def errors_of(response):
    return response.context["form"].errors


# --- Sign-up and email verification -------------------------------------------


def test_sign_up_verify_the_email_and_land_logged_in(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {"email": "lin@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        **EN,
    )
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    user = get_user_model().objects.get(email="lin@example.com")
    assert not EmailAddress.objects.get(user=user).verified

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["lin@example.com"]
    assert message.subject.startswith(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX)
    confirm_path = link_in(message, "/accounts/confirm-email/")
    assert re.fullmatch(r"/accounts/confirm-email/[^/]+/", confirm_path)

    # Signing up does not log in, and neither does logging in before the link is used.
    assert not is_logged_in(client)
    response = log_in(client, "lin@example.com", NEW_PASSWORD)
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    page = client.get(response.url, **EN).content.decode()
    assert "Verify Your Email Address" in page
    assert not is_logged_in(client)

    # The link's page asks for a click; the POST confirms and logs the founder in.
    response = client.get(confirm_path, **EN)
    assert response.status_code == 200
    assert not EmailAddress.objects.get(user=user).verified
    assert "lin@example.com" in response.content.decode()
    response = client.post(confirm_path, **EN)
    assert response.status_code == 302
    assert response.url == "/my/"
    assert EmailAddress.objects.get(user=user).verified
    assert client.get("/my/", **EN).status_code == 200


def test_a_used_confirmation_link_is_harmless(client, mailoutbox):
    client.post(
        "/accounts/signup/",
        {"email": "lin@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        **EN,
    )
    confirm_path = link_in(mailoutbox[0], "/accounts/confirm-email/")
    client.post(confirm_path, **EN)
    client.post("/accounts/logout/", **EN)

    # Once used, the link neither confirms again nor logs anyone in.
    response = client.get(confirm_path, **EN)
    assert response.status_code == 200
    assert "This email confirmation link expired or is invalid." in response.content.decode()
    assert client.post(confirm_path, **EN).status_code == 404
    assert EmailAddress.objects.filter(email="lin@example.com", verified=True).count() == 1
    assert not is_logged_in(client)


def test_a_bad_email_shows_the_error_and_keeps_what_was_typed(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {"email": "lin-at-example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        **EN,
    )
    assert response.status_code == 200
    assert "email" in errors_of(response)
    page = response.content.decode()
    assert 'value="lin-at-example.com"' in page
    assert "is-invalid" in page
    assert "Enter a valid email address." in page
    assert mailoutbox == []
    assert not get_user_model().objects.exists()


def test_mismatched_passwords_show_the_error_and_keep_the_email(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {"email": "lin@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"},
        **EN,
    )
    assert response.status_code == 200
    assert "password2" in errors_of(response)
    page = response.content.decode()
    assert 'value="lin@example.com"' in page
    assert "You must type the same password each time." in page
    assert NEW_PASSWORD not in page  # passwords are never sent back
    assert mailoutbox == []
    assert not get_user_model().objects.exists()


def test_a_weak_password_is_refused_by_the_validators(client):
    response = client.post(
        "/accounts/signup/", {"email": "lin@example.com", "password1": "123456", "password2": "123456"}, **EN
    )
    assert response.status_code == 200
    assert "password1" in errors_of(response)
    assert not get_user_model().objects.exists()


# --- Logging in and out ----------------------------------------------------------


def test_log_in_with_the_email_and_log_out(client):
    verified_founder(email="lin@example.com")

    response = log_in(client, "LIN@example.com ", PASSWORD)  # case and spaces do not matter
    assert response.status_code == 302
    assert response.url == "/my/"
    assert is_logged_in(client)

    # A GET only asks for confirmation; the POST logs out.
    response = client.get("/accounts/logout/", **EN)
    assert response.status_code == 200
    assert is_logged_in(client)
    response = client.post("/accounts/logout/", **EN)
    assert response.status_code == 302
    assert response.url == "/"
    assert not is_logged_in(client)


def test_a_wrong_password_does_not_log_in(client):
    verified_founder(email="lin@example.com")
    response = log_in(client, "lin@example.com", "not the password")
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()
    assert 'value="lin@example.com"' in response.content.decode()
    assert not is_logged_in(client)


def test_the_dashboard_asks_visitors_to_log_in(client):
    response = client.get("/my/submissions/new/", **EN)
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/my/submissions/new/"


# --- Password reset -----------------------------------------------------------------


def test_reset_the_password_by_email_and_log_in_with_the_new_one(client, mailoutbox):
    verified_founder(email="lin@example.com")

    response = client.post("/accounts/password/reset/", {"email": "lin@example.com"}, **EN)
    assert response.status_code == 302
    assert response.url == "/accounts/password/reset/done/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["lin@example.com"]
    reset_path = link_in(mailoutbox[0], "/accounts/password/reset/key/")

    # The key moves into the session and out of the address bar.
    response = client.get(reset_path, **EN)
    assert response.status_code == 302
    form_url = response.url
    assert form_url.endswith("-set-password/")
    assert "-set-password/" not in reset_path
    response = client.get(form_url, **EN)
    assert response.status_code == 200
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, **EN)
    assert response.status_code == 302
    assert response.url == "/accounts/password/reset/key/done/"
    assert not is_logged_in(client)  # a reset does not log in by itself

    assert log_in(client, "lin@example.com", PASSWORD).status_code == 200  # the old one is gone
    assert not is_logged_in(client)
    response = log_in(client, "lin@example.com", NEW_PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)

    # The link works once.
    client.post("/accounts/logout/", **EN)
    response = client.get(reset_path, follow=True, **EN)
    assert "The password reset link was invalid" in response.content.decode()


def test_a_reset_for_an_unknown_email_sends_nothing_revealing(client, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"}, **EN)
    # Same answer as for a known address (ACCOUNT_PREVENT_ENUMERATION).
    assert response.status_code == 302
    assert response.url == "/accounts/password/reset/done/"
    assert all("/accounts/password/reset/key/" not in message.body for message in mailoutbox)


# --- django-axes: lockout per (login, IP) -------------------------------------


def fail_until_locked(client, url, data):
    """Post a wrong password AXES_FAILURE_LIMIT times; return the responses."""
    return [client.post(url, data, **EN) for _ in range(settings.AXES_FAILURE_LIMIT)]


def assert_lockout_page(response):
    assert response.status_code == 429
    assert LOCKOUT_TEMPLATE in [template.name for template in response.templates]
    assert LOCKOUT_HEADING in response.content.decode()


def test_the_failure_limit_is_a_handful():
    assert 3 <= settings.AXES_FAILURE_LIMIT <= 10
    assert settings.AXES_LOCKOUT_PARAMETERS == "aimap.auth.lockout_parameters"


def test_repeated_wrong_passwords_lock_that_email_out_even_with_the_right_password(client):
    verified_founder(email="lin@example.com")
    verified_founder("mei", email="mei@example.com")

    responses = fail_until_locked(client, LOGIN_URL, {"login": "lin@example.com", "password": "guess"})
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert_lockout_page(responses[-1])  # the attempt that reaches the limit
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "lin@example.com"
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT

    response = log_in(client, "lin@example.com", PASSWORD)
    assert response.status_code in (200, 429)
    assert not is_logged_in(client)

    # A different email from the same client is not locked.
    response = log_in(client, "mei@example.com", PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_axes_keeps_the_email_locked_after_allauths_own_limit_has_expired(client):
    """allauth counts failures in the cache for 5 minutes, axes in the database for
    AXES_COOLOFF_TIME (15): in between, the right password meets axes' lockout page."""
    verified_founder(email="lin@example.com")
    fail_until_locked(client, LOGIN_URL, {"login": "lin@example.com", "password": "guess"})
    cache.clear()  # as if allauth's window had passed

    response = log_in(client, "lin@example.com", PASSWORD)
    assert_lockout_page(response)
    assert not is_logged_in(client)


def test_the_attempt_after_the_lockout_shows_the_lockout_page(client):
    verified_founder(email="lin@example.com")
    fail_until_locked(client, LOGIN_URL, {"login": "lin@example.com", "password": "guess"})
    assert_lockout_page(log_in(client, "lin@example.com", PASSWORD))


def test_the_lockout_counts_the_email_whatever_its_case(client):
    verified_founder(email="lin@example.com")
    for login in ["lin@example.com", "LIN@example.com", " Lin@Example.com"]:
        log_in(client, login, "guess")
    assert AccessAttempt.objects.get().failures_since_start == 3


def test_a_successful_login_resets_the_count(client):
    verified_founder(email="lin@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "lin@example.com", "guess")
    assert log_in(client, "lin@example.com", PASSWORD).status_code == 302
    client.post("/accounts/logout/", **EN)

    assert log_in(client, "lin@example.com", "one typo").status_code == 200  # not locked out
    assert not AccessAttempt.objects.filter(username="lin@example.com", failures_since_start__gt=1).exists()


def test_a_successful_admin_login_resets_the_count(client):
    make_user("editor", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(ADMIN_LOGIN_URL, {"username": "editor", "password": "guess"}, **EN)
    response = client.post(
        ADMIN_LOGIN_URL, {"username": "editor", "password": PASSWORD, "next": "/admin/"}, **EN
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


def test_the_admin_login_locks_a_staff_user_out_too(client):
    make_user("editor", is_staff=True)
    make_user("reviewer", is_staff=True)

    responses = fail_until_locked(client, ADMIN_LOGIN_URL, {"username": "editor", "password": "guess"})
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert_lockout_page(responses[-1])

    response = client.post(ADMIN_LOGIN_URL, {"username": "editor", "password": PASSWORD}, **EN)
    assert_lockout_page(response)
    assert client.get("/admin/", **EN).status_code == 302  # still not in

    # Another staff user from the same client is not locked.
    response = client.post(
        ADMIN_LOGIN_URL, {"username": "reviewer", "password": PASSWORD, "next": "/admin/"}, **EN
    )
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get("/admin/", **EN).status_code == 200


# --- allauth's own rate limits ----------------------------------------------------------


def test_allauths_rate_limits_are_on():
    assert getattr(settings, "ACCOUNT_RATE_LIMITS", None) is not False
    limits = allauth_settings.RATE_LIMITS
    for action in ("login", "login_failed", "signup", "reset_password", "confirm_email"):
        assert limits.get(action), action


def test_password_reset_requests_are_rate_limited_per_email(client, mailoutbox):
    verified_founder(email="lin@example.com")
    statuses = [
        client.post("/accounts/password/reset/", {"email": "lin@example.com"}, **EN).status_code
        for _ in range(4)
    ]
    assert statuses == [302] * 3 + [429]  # 3 an hour to one address (allauth's default was 5 a minute)
    assert len(mailoutbox) == 3
