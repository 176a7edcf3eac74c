"""/healthz (the process answers, nothing else touched) and /readyz (database, cache and
the task queue's oldest waiting task): JSON, never cached, no versions or secrets."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from review.mailqueue import send_message


def test_healthz_answers_without_the_database(client):
    # No database fixture: any query here would fail the test (pytest-django blocks it).
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "tasks"}
    assert body["checks"]["tasks"] == {"ok": True, "oldest_waiting_seconds": 0}
    assert "max-age=0" in response["Cache-Control"]
    text = response.content.decode()
    for secret in ("version", "django", "postgres", "sqlite", "redis", "SECRET"):
        assert secret.lower() not in text.lower()


def waiting_task(minutes_ago):
    backend_task = send_message.using(backend="default")
    row = DBTaskResult.objects.create(
        task_path="review.mailqueue.send_message",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name=backend_task.backend,
        queue_name="default",
        run_after=timezone.now() - timedelta(minutes=minutes_ago),
    )
    return row


@pytest.mark.django_db
def test_readyz_fails_when_a_task_has_waited_too_long(client, settings):
    settings.READY_MAX_TASK_WAIT = 300
    waiting_task(minutes_ago=2)
    body = client.get("/readyz").json()
    assert body["status"] == "ok" and 110 <= body["checks"]["tasks"]["oldest_waiting_seconds"] <= 130
    waiting_task(minutes_ago=30)  # the worker is down
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["tasks"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_counts_a_task_to_run_at_once_from_when_it_was_enqueued(client, settings):
    """As the database backend stores a task with no run_after (every email): its run_after
    is the largest date, and it has waited since it was enqueued."""
    from django_tasks_db import DatabaseBackend

    settings.READY_MAX_TASK_WAIT = 300
    backend = DatabaseBackend("default", {"QUEUES": ["default"]})
    result = backend.enqueue(send_message, [{"subject": "x"}], {})
    assert client.get("/readyz").json()["checks"]["tasks"]["ok"] is True
    DBTaskResult.objects.filter(id=result.id).update(enqueued_at=timezone.now() - timedelta(minutes=30))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["tasks"]["oldest_waiting_seconds"] >= 1790


@pytest.mark.django_db
def test_readyz_says_which_check_failed_never_a_500(client):
    with mock.patch("aimap.health._database", side_effect=OperationalError("connection refused")):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] is False and body["checks"]["tasks"]["ok"] is False
    assert "connection refused" not in response.content.decode()
    with mock.patch("aimap.health.cache.get", return_value=None):
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["cache"]["ok"] is False


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.django_db
def test_they_refuse_anything_but_get_and_head(client, path):
    assert client.post(path).status_code == 405
    assert client.head(path).status_code in (200, 503)
