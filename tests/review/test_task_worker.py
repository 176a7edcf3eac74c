"""The real task worker: `manage.py db_worker` (django-tasks-db) as its own process, on a
database of its own (PostgreSQL or SQLite, as the suite runs), sending the emails a
decision enqueued; and retrying, then leaving a `mail_failed` Event, when the mail server
refuses the connection; and writing the download files the decision made out of date
(registry.downloadfiles). Everything else in the suite runs tasks at once (tests/settings.py)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.aimap.test_migrations import ROOT, migrate, scratch  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# Run by `manage.py shell` in the worker's database: a founder's project taken down by an
# editor (workflow.unpublish), which enqueues the founder's email once it commits.
DECIDE = """
from tests.base import make_project, make_user
from tests.review.workflow_builders import make_editor
from review import workflow
founder = make_user("founder", email="founder@example.com")
project = make_project(owner=founder, name="Worker Test Project")
workflow.unpublish(project, by=make_editor(), reason="The site is gone.")
"""

STATE = """
import json
from django_tasks_db.models import DBTaskResult
from registry.models import DownloadFile
from review.models import Event
print(json.dumps({
    "tasks": sorted((t.task_path.rsplit(".", 1)[-1], t.status, t.args_kwargs["kwargs"].get("attempt", 0))
                    for t in DBTaskResult.objects.all()),
    "download_files": sorted(DownloadFile.objects.values_list("format", "rows")),
    "failed_events": list(Event.objects.filter(action="mail_failed").values_list("detail", flat=True)),
}))
"""


def run(database_url, *args, timeout=120, **env):
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "AIMAP_TEST_TASKS": "database",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done.stdout


def state(database_url):
    return json.loads(run(database_url, "shell", "-c", STATE).strip().splitlines()[-1])


def work(database_url, **env):
    run(database_url, "db_worker", "--batch", "--no-startup-delay", "--no-reload", **env)


def test_the_worker_sends_what_a_decision_enqueued(scratch, tmp_path):  # noqa: F811
    database = scratch.new()
    migrate(database)
    mail_dir = tmp_path / "mail"
    # (the download files' refresh due at once rather than DOWNLOAD_FILES_DELAY later)
    run(database, "shell", "-c", DECIDE, AIMAP_TEST_MAIL_DIR=str(mail_dir), DOWNLOAD_FILES_DELAY="0")
    before = state(database)
    assert before["tasks"] == [["refresh_download_files", "READY", 0], ["send_message", "READY", 1]]
    assert before["download_files"] == []  # nothing written in the request either
    assert not mail_dir.exists() or not any(mail_dir.iterdir())  # nothing sent in the request

    work(database, AIMAP_TEST_MAIL_DIR=str(mail_dir))
    assert state(database) == {
        "tasks": [["refresh_download_files", "SUCCESSFUL", 0], ["send_message", "SUCCESSFUL", 1]],
        "download_files": [["csv", 0], ["json", 0]],  # the one project is taken down: none public
        "failed_events": [],
    }
    (sent,) = list(Path(mail_dir).iterdir())
    text = sent.read_text(encoding="utf-8")
    assert "To: founder@example.com" in text and "Worker Test Project" in text


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections are refused


def test_the_worker_retries_then_leaves_a_trace_when_the_mail_server_refuses(scratch, tmp_path):  # noqa: F811
    database = scratch.new()
    migrate(database)
    run(database, "shell", "-c", DECIDE)
    down = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(closed_port()), "EMAIL_USE_TLS": "0",
            "MAIL_ATTEMPTS": "3", "MAIL_RETRY_SECONDS": "0"}  # fmt: skip
    work(database, **down)
    after = state(database)
    assert [task for task in after["tasks"] if task[0] == "send_message"] == [
        ["send_message", "FAILED", 3],
        ["send_message", "SUCCESSFUL", 1],  # ended by enqueueing the next attempt
        ["send_message", "SUCCESSFUL", 2],
    ]
    (detail,) = after["failed_events"]
    assert detail.startswith("unpublish email to founder@example.com failed:")
