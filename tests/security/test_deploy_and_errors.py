"""Production settings pass `check --deploy`; error pages are ours, in both languages, with
no traceback; a database that goes away mid-request gives a 503; security events and
workflow transitions reach the structured log."""

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, override_settings

from aimap.logs import JsonFormatter
from review import workflow
from tests.base import content, make_project, make_user

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "aimap.example.org",
    "DATABASE_URL": "postgres://aimap@db.internal:5432/aimap",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "EMAIL_HOST": "smtp.example.org",
    "CONTACT_EMAIL": "review@aimap.example.org",
    "ADMIN_URL": "review-desk/",
}


def manage(*args, **env):
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_a_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_without_a_contact_address_is_warned():
    without = {key: value for key, value in PRODUCTION.items() if key != "CONTACT_EMAIL"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **without)

    assert result.returncode == 1
    assert "aimap.W001" in result.stderr + result.stdout and "CONTACT_EMAIL" in result.stderr + result.stdout


def test_production_without_staff_two_factor_is_warned():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, STAFF_REQUIRE_MFA="0")

    assert result.returncode == 1
    assert "aimap.W002" in result.stderr + result.stdout


def test_production_settings_turn_on_every_browser_protection():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_REFERRER_POLICY, s.X_FRAME_OPTIONS, s.SECURE_CONTENT_TYPE_NOSNIFF,"
        " 'unsafe-inline' in str(s.SECURE_CSP))"
    )
    result = manage("shell", "-v", "0", "-c", code, **PRODUCTION)

    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "31536000",
        "same-origin",
        "DENY",
        "True",
        "False",
    ]


pytestmark = pytest.mark.django_db


@override_settings(ADMIN_URL="review-desk/", ROOT_URLCONF="aimap.urls")
def test_the_admin_address_is_configurable():
    from importlib import reload

    from django.urls import clear_url_caches

    import aimap.urls

    try:
        reload(aimap.urls)
        clear_url_caches()
        client = Client()
        assert client.get("/review-desk/login/").status_code == 200
        assert client.get("/admin/login/").status_code == 404
    finally:
        with override_settings(ADMIN_URL="admin/"):
            reload(aimap.urls)
            clear_url_caches()


@pytest.mark.parametrize(
    ("language", "text"), [("en", "This page does not exist"), ("zh-hans", "页面不存在")]
)
def test_404_is_our_page_in_both_languages(client, language, text):
    response = client.get("/projects/no-such-thing/", headers={"accept-language": language})

    assert response.status_code == 404 and text in response.text
    assert 'class="site-header' in response.text  # our layout


def test_a_bad_host_is_a_400_page_not_a_traceback():
    response = Client(HTTP_HOST="evil.example").get("/")

    assert response.status_code == 400 and "Traceback" not in response.text


def failing_cursor(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize("url", ["/", "/projects/", "/map/", "/api/projects/"])
def test_the_database_going_away_mid_request_gives_a_503_page(url):
    make_project()
    client = Client(raise_request_exception=False)
    with mock.patch.object(CursorWrapper, "execute", failing_cursor):
        response = client.get(url, headers={"accept-language": "en"})

    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "Temporarily unavailable" in response.text and "Traceback" not in response.text
    assert "OperationalError" not in response.text


def test_any_other_error_is_our_500_page(client):
    client = Client(raise_request_exception=False)
    with mock.patch("registry.views.ProjectFilterSet", side_effect=ValueError("boom")):
        response = client.get("/projects/", headers={"accept-language": "zh-hans"})

    assert response.status_code == 500 and "boom" not in response.text
    assert "出错了" in response.text or "Something went wrong" in response.text


def test_a_csrf_failure_is_our_403_page_and_a_security_event(caplog):
    founder = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(founder)
    with caplog.at_level(logging.WARNING, logger="aimap.security"):
        response = client.post("/my/submissions/new/", {"name": "x"})

    assert response.status_code == 403 and 'class="site-header' in response.text
    (record,) = [r for r in caplog.records if r.name == "aimap.security"]
    assert record.event == "csrf_failed" and record.path == "/my/submissions/new/"


def test_a_failed_login_is_a_security_event_without_the_password(client, caplog):
    make_user("someone")
    with caplog.at_level(logging.WARNING, logger="aimap.security"):
        client.post("/accounts/login/", {"login": "someone@example.com", "password": "wrong-secret-pw"})

    records = [r for r in caplog.records if r.name == "aimap.security" and r.event == "login_failed"]
    assert records and records[0].login == "someone@example.com"
    assert all("wrong-secret-pw" not in JsonFormatter().format(r) for r in caplog.records)


def test_workflow_transitions_are_logged_as_json_lines(caplog):
    founder = make_user()
    with caplog.at_level(logging.INFO, logger="aimap.workflow"):
        submission = workflow.create_and_submit(
            by=founder,
            content=content(
                draft=False,
                name="Logged",
                tagline="t",
                description="d",
                track="agents",
                website="https://logged.example",
            ),
        )

    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "aimap.workflow"]
    assert [line["action"] for line in lines][-1] == "submit"
    assert lines[-1]["submission"] == submission.pk and lines[-1]["actor"] == founder.pk
    assert lines[-1]["to_state"] == "submitted" and lines[-1]["level"] == "INFO"
