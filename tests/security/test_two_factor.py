"""Two-factor authentication for staff (issue 15, decision 0023): with STAFF_REQUIRE_MFA on, a
staff account without an authenticator app is sent to set one up and opens no admin page;
one that has it gives a right code after the password on either login, and wrong codes count
towards axes' lock-out like wrong passwords; with the setting off, staff log in as before;
founders are never asked."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse

from tests.base import activate_totp, make_user, totp_code, wrong_code

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"  # tests.base.make_user's
ADMIN = f"/{settings.ADMIN_URL}"
ADMIN_LOGIN = f"{ADMIN}login/"
SUBMISSIONS = reverse("admin:review_submission_changelist")
AUTHENTICATE = reverse("mfa_authenticate")
ACTIVATE = reverse("mfa_activate_totp")
required = override_settings(STAFF_REQUIRE_MFA=True)


def reviewer(username="reviewer", **extra):
    user = make_user(username, is_staff=True, **extra)
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


def admin_login(client, username, password=PASSWORD):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password, "next": ADMIN})


def confirm_password(client, then=ACTIVATE):
    """allauth asks for the password again before two-factor settings change (within
    ACCOUNT_REAUTHENTICATION_TIMEOUT of the last time)."""
    assert client.get(then).url.startswith(reverse("account_reauthenticate"))
    client.post(f"{reverse('account_reauthenticate')}?next={then}", {"password": PASSWORD})


def logged_in_user(client):
    return client.get(ADMIN).wsgi_request.user


@required
@pytest.mark.parametrize("username", ["reviewer", "superuser"])
def test_staff_without_an_authenticator_are_sent_to_set_one_up_and_open_no_admin_page(client, username):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the message read in English
    if username == "superuser":
        make_user(username, is_staff=True, is_superuser=True)
    else:
        reviewer(username)
    assert admin_login(client, username).url == ADMIN
    for page in (ADMIN, SUBMISSIONS, f"{ADMIN}auth/user/"):
        response = client.get(page)
        assert (response.status_code, response.url) == (302, ACTIVATE), page
    assert client.post(SUBMISSIONS, {"action": "x"}).url == ACTIVATE
    shown = [str(message) for message in get_messages(client.get(ADMIN).wsgi_request)]
    assert any("two-factor authentication" in message for message in shown)
    confirm_password(client)
    assert client.get(ACTIVATE).status_code == 200  # the page that sets it up opens


@required
def test_a_staff_member_sets_up_an_authenticator_and_then_opens_the_admin(client):
    user = reviewer()
    admin_login(client, "reviewer")
    confirm_password(client)
    page = client.get(ACTIVATE)
    assert b"data:image/svg+xml;base64," in page.content  # the QR code
    secret = client.session["mfa.totp.secret"]
    refused = client.post(ACTIVATE, {"code": wrong_code(totp_code(secret))})
    assert refused.status_code == 200 and not Authenticator.objects.filter(user=user).exists()
    client.post(ACTIVATE, {"code": totp_code(secret)})
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert client.get(SUBMISSIONS).status_code == 200


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_two_factor_pages_open_in_the_sites_look(client, language):
    user = reviewer()
    activate_totp(user)
    client.force_login(user)
    client.cookies["django_language"] = language
    confirm_password(client, then=reverse("mfa_deactivate_totp"))
    for name in ("mfa_index", "mfa_deactivate_totp", "mfa_generate_recovery_codes"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert b'class="navbar' in response.content and b'class="btn' in response.content, name
        assert f'<html lang="{language}">'.encode() in response.content, name


@required
def test_staff_may_still_log_out_before_setting_it_up(client):
    reviewer()
    admin_login(client, "reviewer")
    client.post(reverse("admin:logout"))
    assert not logged_in_user(client).is_authenticated


@pytest.mark.parametrize("setting", [True, False])
def test_a_staff_member_with_an_authenticator_gives_a_code_after_the_password(client, setting):
    user = reviewer()
    secret = activate_totp(user)
    with override_settings(STAFF_REQUIRE_MFA=setting):
        response = admin_login(client, "reviewer")
        assert response.url == AUTHENTICATE
        assert not logged_in_user(client).is_authenticated  # the password alone is not enough
        refused = client.post(AUTHENTICATE, {"code": wrong_code(totp_code(secret))})
        assert refused.status_code == 200 and b"invalid-feedback" in refused.content
        assert not logged_in_user(client).is_authenticated
        accepted = client.post(AUTHENTICATE, {"code": totp_code(secret)})
        assert accepted.url == ADMIN
        assert logged_in_user(client) == user
        assert client.get(SUBMISSIONS).status_code == 200


@required
def test_a_code_is_asked_on_the_sites_own_login_too(client):
    user = reviewer()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    secret = activate_totp(user)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.url == AUTHENTICATE
    assert not logged_in_user(client).is_authenticated
    client.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert logged_in_user(client) == user


@required
def test_wrong_codes_count_towards_the_staff_lock_out():
    user = reviewer()
    secret = activate_totp(user)
    client = Client(REMOTE_ADDR="198.51.100.1")
    admin_login(client, "reviewer")
    for _n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(AUTHENTICATE, {"code": "000000"}).status_code == 200
    assert client.post(AUTHENTICATE, {"code": "000000"}).status_code == 429  # axes' lock-out page
    assert client.post(AUTHENTICATE, {"code": totp_code(secret)}).status_code == 429
    assert not logged_in_user(client).is_authenticated
    # The account is locked from other addresses too, its right password included.
    elsewhere = admin_login(Client(REMOTE_ADDR="203.0.113.9"), "reviewer")
    assert elsewhere.status_code == 429


def test_staff_log_in_with_the_password_alone_when_the_setting_is_off(client):
    user = reviewer()
    assert admin_login(client, "reviewer").url == ADMIN
    assert logged_in_user(client) == user
    assert client.get(SUBMISSIONS).status_code == 200


@required
def test_founders_are_never_asked(client):
    founder = make_user("founder", email="founder@example.com")
    EmailAddress.objects.create(user=founder, email=founder.email, verified=True, primary=True)
    response = client.post(reverse("account_login"), {"login": founder.email, "password": PASSWORD})
    assert response.url == reverse("review:dashboard")
    assert client.get(reverse("review:dashboard")).status_code == 200
    assert client.get(ADMIN).url.startswith(ADMIN_LOGIN)  # the admin is not theirs, as before
