"""The whole map's downloads as files (registry.downloadfiles), and one streamed download at a
time per client (registry.exportlimit)."""

import gzip
import os
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.http import FileResponse
from django.tasks import task_backends
from django.tasks.backends.dummy import DummyBackend
from django.utils import timezone

from registry import downloadfiles
from registry.models import DownloadFile, Project
from tests.base import make_project, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "http://testserver"


def publish(django_capture_on_commit_callbacks, **fields):
    """A project published in a transaction of its own, its on-commit work run (the tests'
    tasks run at once: the files are written)."""
    with django_capture_on_commit_callbacks(execute=True):
        return make_project(**fields)


def body(response):
    if isinstance(response, FileResponse):
        return b"".join(response.streaming_content)
    return text_of(response).encode()


def streamed(client, settings, url):
    """The download as the request writes it (no file)."""
    settings.DOWNLOAD_FILES = False
    try:
        return body(client.get(url))
    finally:
        settings.DOWNLOAD_FILES = True


def went_away(response):
    """The client went away before reading it all: the server closes the response (without
    closing the test's database connection, as the test client's own wrapper does)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


@pytest.fixture
def deferred_tasks():
    """A task backend that keeps what is enqueued (as the database's does until the worker
    runs it), in place of the tests' run-at-once backend."""
    backend = DummyBackend("default", {})
    task_backends["default"] = backend
    yield backend.results
    del task_backends["default"]


@pytest.mark.parametrize("url", ["/data/projects.csv", "/data/projects.json"])
def test_the_whole_map_is_served_from_its_file_with_the_streamed_bytes(
    client, settings, django_capture_on_commit_callbacks, url
):
    publish(django_capture_on_commit_callbacks, name="灵犀客服", secondary=["coding"])
    publish(django_capture_on_commit_callbacks, name="Ænix")
    hidden = make_project(name="Not public", published=False)

    response = client.get(url)
    assert isinstance(response, FileResponse), "served from the file"
    served = body(response)
    assert served == streamed(client, settings, url)
    text = served.decode()
    assert "灵犀客服" in text and "Ænix" in text and hidden.name not in text
    found = DownloadFile.objects.get(format=url.rsplit(".", 1)[1])
    assert found.rows == 2 and found.size == len(served)
    assert response["ETag"] == f'"{found.sha256}"'
    assert response["Content-Length"] == str(len(served))
    assert response["Content-Disposition"] == f'attachment; filename="aimap-projects.{found.format}"'
    assert response["Last-Modified"]


def test_a_publication_writes_the_files_again(client, django_capture_on_commit_callbacks):
    publish(django_capture_on_commit_callbacks, name="First")
    first = DownloadFile.objects.get(format="csv")
    publish(django_capture_on_commit_callbacks, name="Second")
    second = DownloadFile.objects.get(format="csv")
    assert second.name != first.name and second.sha256 != first.sha256 and second.rows == 2
    assert "Second" in body(client.get("/data/projects.csv")).decode()
    # The files replaced are gone from the storage, the current ones there.
    assert not default_storage.exists(first.name) and not default_storage.exists(first.gzip_name)
    assert default_storage.exists(second.name) and default_storage.exists(second.gzip_name)


def test_unpublishing_removes_the_listing_from_the_file(client, django_capture_on_commit_callbacks):
    project = publish(django_capture_on_commit_callbacks, name="Soon gone")
    assert "Soon gone" in body(client.get("/data/projects.csv")).decode()
    with django_capture_on_commit_callbacks(execute=True):
        Project.objects.filter(pk=project.pk).update(published=False)
        from registry import published

        published.changed()  # as every bulk writer does
    assert "Soon gone" not in body(client.get("/data/projects.csv")).decode()


def test_unchanged_data_keeps_the_file_and_its_date(django_capture_on_commit_callbacks):
    publish(django_capture_on_commit_callbacks, name="Steady")
    first = DownloadFile.objects.get(format="json")
    again = downloadfiles.write("json")
    assert (again.name, again.written_at, again.sha256) == (first.name, first.written_at, first.sha256)


@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
def test_a_client_that_has_the_file_gets_304(client, django_capture_on_commit_callbacks, header):
    publish(django_capture_on_commit_callbacks)
    first = client.get("/data/projects.csv")
    validator = first["ETag"] if header == "If-None-Match" else first["Last-Modified"]
    again = client.get("/data/projects.csv", headers={header: validator})
    assert again.status_code == 304 and not again.content
    assert again["ETag"] == first["ETag"]
    # Once the data changed, the old validator no longer matches.
    publish(django_capture_on_commit_callbacks, name="Newer")
    changed = client.get(
        "/data/projects.csv", headers={"If-None-Match": first["ETag"]} if header == "If-None-Match" else {}
    )
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


@pytest.mark.parametrize(
    ("accept", "packed"),
    [("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.5", True), ("gzip;q=0", False), ("", False),
     ("identity", False), ("gzip;q=banana", False)],
)  # fmt: skip
def test_gzip_for_clients_that_take_it(client, django_capture_on_commit_callbacks, accept, packed):
    publish(django_capture_on_commit_callbacks, name="压缩")
    plain = body(client.get("/data/projects.csv"))
    response = client.get("/data/projects.csv", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert "Accept-Encoding" in response["Vary"]
    if packed:
        assert response["Content-Encoding"] == "gzip"
        assert gzip.decompress(body(response)) == plain
        assert response["ETag"].endswith('-gzip"')
    else:
        assert not response.has_header("Content-Encoding")
        assert body(response) == plain


def test_head_answers_without_a_body(client, django_capture_on_commit_callbacks):
    publish(django_capture_on_commit_callbacks)
    response = client.head("/data/projects.json")
    assert response.status_code == 200 and response["ETag"]
    assert client.post("/data/projects.json").status_code == 405


def test_serving_from_the_file_costs_one_query_whatever_the_rows(
    client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    for number in range(3):
        publish(django_capture_on_commit_callbacks, name=f"Row {number}")
    with django_assert_num_queries(1):
        small = body(client.get("/data/projects.csv"))
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(3, 40):
            make_project(name=f"Row {number}", secondary=["coding"])
    with django_assert_num_queries(1):
        large = body(client.get("/data/projects.csv"))
    assert large.count(b"\r\n") == 41 and small.count(b"\r\n") == 4


def test_without_a_file_the_download_is_written_in_the_request_and_a_refresh_scheduled(
    client, deferred_tasks
):
    make_project(name="Before any file")  # no commit: nothing scheduled, no file
    assert not DownloadFile.objects.exists()
    response = client.get("/data/projects.csv")
    assert not isinstance(response, FileResponse)
    assert "Before any file" in text_of(response)
    assert [result.task.name for result in deferred_tasks] == ["refresh_download_files"]


def test_publications_close_together_write_the_files_once(settings, deferred_tasks):
    settings.DOWNLOAD_FILES_DELAY = 30
    for number in range(5):
        with transaction.atomic():
            make_project(name=f"Burst {number}")
        downloadfiles.schedule_refresh()  # what each commit's callback does
    assert len(deferred_tasks) == 1
    (scheduled,) = deferred_tasks
    assert (
        timezone.now() + timedelta(seconds=25)
        < scheduled.task.run_after
        <= timezone.now() + timedelta(seconds=30)
    )
    # The worker runs it: the files hold all five; the next publication schedules again.
    counts = downloadfiles.refresh_download_files.call()
    assert counts == {"csv": 5, "json": 5}
    downloadfiles.schedule_refresh()
    assert len(deferred_tasks) == 2


def test_a_commit_schedules_the_refresh_and_a_rollback_does_not(
    deferred_tasks, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_project(name="Rolled back")
        raise RuntimeError
    assert callbacks == [] and deferred_tasks == []
    with django_capture_on_commit_callbacks(execute=True):
        make_project(name="Kept")
    assert [result.task.name for result in deferred_tasks] == ["refresh_download_files"]


def test_no_refresh_when_the_files_are_off(settings, deferred_tasks, django_capture_on_commit_callbacks):
    settings.DOWNLOAD_FILES = False
    with django_capture_on_commit_callbacks(execute=True):
        make_project()
    assert deferred_tasks == []


def test_a_scheduled_publication_outdates_the_file(
    client, django_capture_on_commit_callbacks, deferred_tasks
):
    soon = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=False):
        make_project(name="Public now")
        make_project(name="Public later", published_at=soon)
    downloadfiles.refresh_download_files.call()
    found = DownloadFile.objects.get(format="csv")
    assert found.valid_until == soon and found.rows == 1
    assert isinstance(client.get("/data/projects.csv"), FileResponse)
    # The hour has passed: the file no longer says what is public; the request writes it.
    DownloadFile.objects.update(valid_until=timezone.now() - timedelta(seconds=1))
    Project.objects.filter(name="Public later").update(published_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/data/projects.csv")
    assert not isinstance(response, FileResponse)
    assert "Public later" in text_of(response)
    assert [result.task.name for result in deferred_tasks] == ["refresh_download_files"]


def test_a_file_gone_from_the_disk_is_streamed_instead(client, django_capture_on_commit_callbacks, settings):
    publish(django_capture_on_commit_callbacks, name="Still here")
    found = DownloadFile.objects.get(format="csv")
    os.remove(default_storage.path(found.name))
    response = client.get("/data/projects.csv")
    assert response.status_code == 200 and "Still here" in text_of(response)


# --- One streamed download at a time per client ---------------------------------------


def test_a_second_filtered_download_at_once_is_refused_with_429(client):
    make_project(name="Row")
    first = client.get("/data/projects.csv?track=agents")
    assert first.status_code == 200
    second = client.get("/data/projects.json?q=Row", headers={"Accept-Language": "en"})
    assert second.status_code == 429
    assert second["Retry-After"] == "10"
    assert "One download at a time" in second.content.decode()
    assert 'href="/data/projects.json"' in second.content.decode()
    # Another client is not held up.
    assert client.get("/data/projects.csv?q=Row", REMOTE_ADDR="198.51.100.9").status_code == 200
    # The first one done (read to the end and closed), the client may download again.
    assert "Row" in text_of(first)
    third = client.get("/data/projects.json?q=Row")
    assert third.status_code == 200 and "Row" in text_of(third)


def test_a_download_closed_before_it_was_read_gives_the_slot_back(client):
    make_project(name="Row")
    first = client.get("/data/projects.csv?q=Row")
    went_away(first)
    assert client.get("/data/projects.csv?q=Row").status_code == 200


def test_the_slot_counts_the_client_address_behind_the_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_project(name="Row")
    held = client.get("/data/projects.csv?q=Row", headers={"X-Forwarded-For": "203.0.113.7"})
    assert held.status_code == 200
    # The same client, whatever it writes on the left of the header: refused.
    spoofed = client.get("/data/projects.csv?q=Row", headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
    assert spoofed.status_code == 429
    # Another visitor behind the same proxy: served.
    other = client.get("/data/projects.csv?q=Row", headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 200
    went_away(held)
    went_away(other)


def test_the_whole_map_from_its_file_needs_no_slot(client, django_capture_on_commit_callbacks):
    publish(django_capture_on_commit_callbacks, name="Row")
    held = client.get("/data/projects.csv?q=Row")
    assert held.status_code == 200
    responses = [client.get("/data/projects.csv") for _ in range(3)]
    assert all(isinstance(response, FileResponse) for response in responses)
    for response in [held, *responses]:
        went_away(response)


def test_a_slot_lost_with_its_worker_expires(client, settings):
    from registry.models import ExportSlot

    make_project(name="Row")
    settings.EXPORT_SLOT_SECONDS = 300
    client.get("/data/projects.csv?q=Row")  # never read nor closed
    (slot,) = ExportSlot.objects.all()
    assert slot.client == "127.0.0.1" and slot.expires_at > timezone.now() + timedelta(seconds=290)
    assert client.get("/data/projects.csv?q=Row").status_code == 429
    # The worker was killed mid-download: nothing gives the slot back until it expires.
    ExportSlot.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    again = client.get("/data/projects.csv?q=Row")
    assert again.status_code == 200 and "Row" in text_of(again)
    assert not ExportSlot.objects.exists(), "given back once read"


def test_the_slot_holds_across_processes(client):
    """The slot is in the database, not in one process's memory: a slot another worker took
    (a row written by another connection) refuses this one's request too."""
    from registry.models import ExportSlot

    ExportSlot.objects.create(
        client="127.0.0.1", token="other-worker", expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert client.get("/data/projects.csv?q=Row").status_code == 429
    assert client.get("/data/projects.json?track=agents").status_code == 429
