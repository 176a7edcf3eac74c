"""The whole map as files: /data/projects.csv and /data/projects.json without filters.

Writing the whole map costs seconds (100,000 projects: about 80 MB of CSV), too much for a
request that anyone can repeat. So the full downloads are files:

- After a write that changes public data (registry.published.changed()), a task writes them
  again: once, DOWNLOAD_FILES_DELAY seconds later, however many publications came in
  between (a key in the shared cache says a refresh is already on its way; the task removes
  it before it reads, so a change during the writing schedules the next one).
- Each format is written to a new file in the default storage (local disk or S3), with a
  gzip copy, and a DownloadFile row then names the current file, its SHA-256 (the ETag) and
  the time of its data (Last-Modified); the files it replaces are deleted. A file holds the
  same bytes the streamed download gives for the same data (opendata's writers).
- serve() answers from the file: 304 for a client that has it, the gzip copy for a client
  that accepts it, the file from disk (the server's sendfile), or a redirect to object
  storage, which keeps its own validators. Without a current file (none written yet, the
  task not run, a scheduled publication due since) it answers None and the view streams, as
  a filtered download does, and a refresh is scheduled.
"""

import contextlib
import gzip
import hashlib
import os
import tempfile
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpResponseRedirect
from django.tasks import task, task_backends
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from registry import opendata
from registry.absolute import absolute
from registry.filters import ProjectFilterSet
from registry.models import DownloadFile, Project


class Format(NamedTuple):
    pieces: object  # opendata.csv_pieces or json_pieces
    content_type: str
    filename: str  # what the visitor's browser saves it as


FORMATS = {
    "csv": Format(opendata.csv_pieces, "text/csv; charset=utf-8", "aimap-projects.csv"),
    "json": Format(opendata.json_pieces, "application/json; charset=utf-8", "aimap-projects.json"),
}
FOLDER = "downloads"
SCHEDULED_KEY = "aimap:downloads:refresh-scheduled"
# How long the "scheduled" mark outlives the delay: a task lost with a stopped worker
# blocks the next refresh no longer than this.
LOST_TASK_SECONDS = 600
MAX_AGE = 60  # seconds a browser or proxy may keep a download without asking again


def export_queryset(params):
    """What a download of `params` (the list's filters) holds: published projects only."""
    return ProjectFilterSet(params, queryset=Project.objects.published()).qs


# --- Writing -------------------------------------------------------------------------


def published_changed():
    """Public data changed (or is about to, once the transaction commits): write the files
    again, DOWNLOAD_FILES_DELAY seconds after the commit."""
    if settings.DOWNLOAD_FILES:
        transaction.on_commit(schedule_refresh)


def schedule_refresh():
    """Enqueue one refresh unless one is already on its way."""
    delay = settings.DOWNLOAD_FILES_DELAY
    if not cache.add(SCHEDULED_KEY, True, timeout=delay + LOST_TASK_SECONDS):
        return None
    task_ = refresh_download_files
    if delay and task_backends[task_.backend].supports_defer:
        task_ = task_.using(run_after=timezone.now() + timedelta(seconds=delay))
    return task_.enqueue()


@task()
def refresh_download_files():
    """The worker's side: write every format from the data as it is now."""
    cache.delete(SCHEDULED_KEY)  # a change from now on needs a refresh of its own
    return {name: write(name).rows for name in FORMATS}


def write(name):
    """Write the whole map in format `name` to new files; returns their DownloadFile."""
    form = FORMATS[name]
    stamp = timezone.now()
    with tempfile.TemporaryDirectory(prefix="aimap-download-") as folder:
        plain_path, gzip_path = os.path.join(folder, "plain"), os.path.join(folder, "gzip")
        with transaction.atomic():  # one consistent reading (a server-side cursor on PostgreSQL)
            valid_until = (
                Project.objects.scheduled()
                .order_by("published_at")
                .values_list("published_at", flat=True)
                .first()
            )
            rows, digest = _write_files(form, plain_path, gzip_path)
        size, gzip_size = os.path.getsize(plain_path), os.path.getsize(gzip_path)
        with transaction.atomic():
            old = DownloadFile.objects.select_for_update().filter(format=name).first()
            if old is not None and (old.sha256 == digest or old.written_at > stamp):
                # The same bytes (nothing public changed: the file and its Last-Modified stay),
                # or a newer file written meanwhile by another task: keep it.
                if old.sha256 == digest and old.valid_until != valid_until:
                    old.valid_until = valid_until
                    old.save(update_fields=["valid_until"])
                return old
            base = f"{FOLDER}/projects-{stamp:%Y%m%dT%H%M%S%f}.{name}"
            with open(plain_path, "rb") as plain, open(gzip_path, "rb") as packed:
                stored = default_storage.save(base, File(plain))
                stored_gzip = default_storage.save(base + ".gz", File(packed))
            current, _created = DownloadFile.objects.update_or_create(
                format=name,
                defaults={
                    "name": stored, "size": size, "gzip_name": stored_gzip, "gzip_size": gzip_size,
                    "sha256": digest, "rows": rows, "written_at": stamp, "valid_until": valid_until,
                },
            )  # fmt: skip
            if old is not None:
                replaced = [old.name, old.gzip_name]
                transaction.on_commit(lambda: _delete(replaced))
    return current


def _write_files(form, plain_path, gzip_path):
    """The download's text into `plain_path`, gzip-compressed into `gzip_path`: (rows, sha256)."""
    counted = [0]

    def counting(records):
        for record in records:
            counted[0] += 1
            yield record

    digest = hashlib.sha256()
    records = counting(opendata.export_records(export_queryset({}), absolute))
    with open(plain_path, "wb") as plain, gzip.open(gzip_path, "wb", compresslevel=6) as packed:
        for piece in form.pieces(records):
            data = piece.encode()
            digest.update(data)
            plain.write(data)
            packed.write(data)
    return counted[0], digest.hexdigest()


def _delete(names):
    for name in names:
        with contextlib.suppress(OSError):  # gone already (another writer): nothing to do
            default_storage.delete(name)


# --- Serving -------------------------------------------------------------------------


def current_file(name, now=None):
    """The DownloadFile of format `name` if it holds the public data as of now, else None."""
    found = DownloadFile.objects.filter(format=name).first()
    if found is None or (found.valid_until is not None and found.valid_until <= (now or timezone.now())):
        return None
    return found


def accepts_gzip(request):
    """Whether the client takes Content-Encoding: gzip (and did not refuse it with q=0)."""
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip"):
            continue
        params = params.strip().lower().replace(" ", "")
        if not params.startswith("q="):
            return True
        try:
            return float(params[2:]) > 0
        except ValueError:
            return False
    return False


def serve(request, name):
    """The response for the whole map in format `name` from its file, or None to stream it."""
    if not settings.DOWNLOAD_FILES:
        return None
    found = current_file(name)
    if found is None:
        schedule_refresh()
        return None
    packed = accepts_gzip(request)
    etag = f'"{found.sha256}{"-gzip" if packed else ""}"'
    last_modified = int(found.written_at.timestamp())  # HTTP dates count whole seconds
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        stored = found.gzip_name if packed else found.name
        response = _file_response(stored, FORMATS[name], packed)
        if response is None:  # deleted by a newer writer since the row was read
            return None
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


def _file_response(stored, form, packed):
    try:
        default_storage.path(stored)
    except NotImplementedError:  # object storage: it serves the file, with its own validators
        return HttpResponseRedirect(default_storage.url(stored))
    try:
        handle = default_storage.open(stored, "rb")
    except FileNotFoundError:
        return None
    response = FileResponse(
        handle, content_type=form.content_type, as_attachment=True, filename=form.filename
    )
    if packed:
        response["Content-Encoding"] = "gzip"
    return response
