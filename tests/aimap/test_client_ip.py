"""One client address (registry.clientip) for axes, allauth, the security log and limits:
TRUSTED_PROXY_COUNT = n takes the n-th address from the right of X-Forwarded-For; a spoofed
left part changes nothing; a short or malformed header falls back to REMOTE_ADDR."""

import logging

import pytest
from allauth.account.adapter import get_adapter
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory

from registry.clientip import address, client_ip
from tests.review.test_accounts import LOGIN_URL, PASSWORD, is_logged_in, verified_founder

PROXY = "10.0.0.2"  # the nearest peer: the proxy, as REMOTE_ADDR
FIRST, SECOND = "203.0.113.7", "203.0.113.8"


def request_from(forwarded=None, remote=PROXY):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.fixture(autouse=True)
def fresh_limits(db):
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No proxy: the header is anybody's to write and is ignored.
        (0, None, PROXY),
        (0, FIRST, PROXY),
        (0, f"{FIRST}, {SECOND}", PROXY),
        # One proxy: the rightmost entry is the one it wrote.
        (1, FIRST, FIRST),
        (1, f"{SECOND}, {FIRST}", FIRST),  # spoofed left part
        (1, f"1.1.1.1, 8.8.8.8,{FIRST}", FIRST),
        (1, f"  {FIRST}  ", FIRST),
        (1, f"{FIRST}:51234", FIRST),  # with a port
        (1, "2001:db8::7", "2001:db8::7"),
        (1, "[2001:DB8::7]:443", "2001:db8::7"),
        (1, None, PROXY),  # not through the proxy
        (1, "", PROXY),
        (1, "garbage", PROXY),  # malformed: never taken from the header
        (1, f"{FIRST}, <script>", PROXY),
        (1, "999.1.1.1", PROXY),
        (1, f"{FIRST},", PROXY),
        (1, "\x00" * 100, PROXY),
        # Two proxies: the second from the right (the outer proxy wrote it).
        (2, f"{FIRST}, 10.0.0.1", FIRST),
        (2, f"{SECOND}, {FIRST}, 10.0.0.1", FIRST),  # spoofed left part
        (2, FIRST, PROXY),  # shorter than the proxies: not through both
        (2, "garbage, 10.0.0.1", PROXY),
    ],
)
def test_the_client_is_the_nth_address_from_the_right(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = request_from(forwarded)
    assert client_ip(request) == expected
    # axes and allauth read the very same function
    assert get_client_ip_address(request) == expected
    assert get_adapter(request).get_client_ip(request) == expected


@pytest.mark.parametrize("value", ["", "localhost", "1.2.3", "::ffff:999.1.1.1", "[::1", "1.2.3.4:5:6"])
def test_what_is_not_an_address_is_none(value):
    assert address(value) == ""


def test_the_setting_defaults_to_no_proxy():
    assert settings.AXES_CLIENT_IP_CALLABLE == "registry.clientip.client_ip"
    assert settings.ACCOUNT_ADAPTER == "aimap.auth.AccountAdapter"


def log_in_from(client, ip, login, password):
    forwarded = f"198.51.100.99, {ip}"  # whatever the client put on the left
    return client.post(
        LOGIN_URL,
        {"login": login, "password": password},
        headers={"accept-language": "en", "x-forwarded-for": forwarded},
        REMOTE_ADDR=PROXY,
    )


def test_behind_a_proxy_one_clients_failures_lock_out_that_client_only(settings, client, django_user_model):
    """The issue's case: seven wrong passwords from one client behind the proxy used to lock
    out every client (all seen as the proxy's address)."""
    settings.TRUSTED_PROXY_COUNT = 1
    verified_founder(email="founder@example.com")
    for _ in range(7):
        log_in_from(client, FIRST, "founder@example.com", "guess")
    attempt = AccessAttempt.objects.get()
    assert attempt.ip_address == FIRST

    other = client_class_like(client)
    response = log_in_from(other, SECOND, "founder@example.com", PASSWORD)
    assert response.status_code == 302 and is_logged_in(other)

    # The first client stays locked, whatever it writes on the left of the header.
    again = client_class_like(client)
    response = log_in_from(again, FIRST, "founder@example.com", PASSWORD)
    assert response.status_code == 429 and not is_logged_in(again)


def client_class_like(client):
    return client.__class__()


def test_allauths_limit_per_address_counts_each_client_apart(settings, client):
    """allauth's failed-login limit per address (20 a minute): one client reaching it does
    not stop another behind the same proxy."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 1000  # allauth's own limit is under test here
    verified_founder(email="founder@example.com")
    limit = 20
    refused = "Too many failed login attempts"
    texts = [log_in_from(client, FIRST, f"nobody{n}@example.com", "guess").text for n in range(limit + 1)]
    assert refused in texts[-1] and not any(refused in text for text in texts[:limit])
    # Every address on the left of the header is the client's to choose: still the same client.
    spoofed = client.post(
        LOGIN_URL, {"login": "nobody@example.com", "password": "guess"},
        headers={"accept-language": "en", "x-forwarded-for": f"192.0.2.{limit}, {FIRST}"}, REMOTE_ADDR=PROXY,
    )  # fmt: skip
    assert refused in spoofed.text
    other = client_class_like(client)
    assert log_in_from(other, SECOND, "founder@example.com", PASSWORD).status_code == 302


def test_the_security_log_names_the_client(settings, client, caplog):
    settings.TRUSTED_PROXY_COUNT = 1
    verified_founder(email="founder@example.com")
    with caplog.at_level(logging.WARNING, logger="aimap.security"):
        log_in_from(client, FIRST, "founder@example.com", "guess")
    (record,) = [r for r in caplog.records if getattr(r, "event", "") == "login_failed"]
    assert record.ip == FIRST
