"""The admin's login (issue 15): a staff account locks after AXES_FAILURE_LIMIT wrong
passwords whatever addresses they come from; a founder's account does not lock that way
(anyone could lock any founder out), only per address; and a founder's right password on
the admin's login counts as a failure, so the count tells a guesser nothing."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from tests.base import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"  # tests.base.make_user's
ADMIN_LOGIN = f"/{settings.ADMIN_URL}login/"


@pytest.fixture(autouse=True)
def fresh():
    cache.clear()
    yield
    cache.clear()


def admin_login(username, password, ip):
    return Client(REMOTE_ADDR=ip).post(
        ADMIN_LOGIN, {"username": username, "password": password, "next": f"/{settings.ADMIN_URL}"}
    )


def test_guesses_at_a_staff_account_from_many_addresses_lock_it():
    make_user("editor", is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login("editor", f"guess{n}", f"198.51.100.{n + 1}")
    response = admin_login("editor", PASSWORD, "198.51.100.200")  # the right one, from elsewhere
    assert response.status_code == 429


def test_a_founders_account_is_not_locked_by_guesses_from_other_addresses(client):
    make_user("founder", email="founder@example.com")
    for n in range(settings.AXES_FAILURE_LIMIT + 2):
        Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            "/accounts/login/", {"login": "founder@example.com", "password": f"guess{n}"}
        )
    right = Client(REMOTE_ADDR="203.0.113.9").post(
        "/accounts/login/", {"login": "founder@example.com", "password": PASSWORD}
    )
    assert right.status_code == 302


def test_a_founders_right_password_on_the_admin_login_is_a_failure():
    make_user("founder", email="founder@example.com")
    wrong = admin_login("founder", "guess", "198.51.100.1")
    right = admin_login("founder", PASSWORD, "198.51.100.1")
    assert wrong.status_code == right.status_code == 200  # both refused, the same page
    assert AccessAttempt.objects.get(username="founder").failures_since_start == 2
