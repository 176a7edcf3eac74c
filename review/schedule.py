"""The periodic jobs, run by the task worker on a schedule, with no crontab
(docs/decisions/0024-periodic-jobs-on-the-worker.md).

`JOBS` is the schedule: each job's task and how often it runs. A `tick` task, waiting in
the task table with a time to run (`run_after`), enqueues the jobs that are due and then
enqueues the next tick, TICK_EVERY later: the schedule lives in the database beside the
tasks, and the worker that runs the tasks runs it. `PeriodicRun` rows say when each job is
next due; a job is enqueued under that row's lock, so two ticks (two workers started at
once) never enqueue it twice. `manage.py start_schedule` (run by `make run` and by the
worker's systemd unit before it starts) enqueues a tick when none is waiting.

The stale lists (listings not verified for 6, 12 or 24 months) need no job: the projects'
admin filters them when asked (review.project_admin.UnverifiedFilter).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.tasks import task, task_backends
from django.utils import timezone
from django.utils.module_loading import import_string

from review import lifecycle
from review.models import PeriodicRun

TICK_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Job:
    task: str  # the dotted path of a task taking no arguments
    every: timedelta


JOBS = {
    # Each run checks the websites that are due (review.linkjobs: weekly, daily when failing).
    "link_checks": Job("review.linkjobs.check_links", timedelta(hours=1)),
    # The yearly "still operating?" emails that are due.
    "confirmations": Job("review.schedule.send_confirmations", timedelta(hours=6)),
}


@task()
def send_confirmations():
    return {"sent": lifecycle.request_confirmations()}


def enqueue_due(now=None):
    """Enqueue every job whose time has come and move its next time on; returns their names."""
    now = now or timezone.now()
    enqueued = []
    for name, job in JOBS.items():
        with transaction.atomic():
            run = PeriodicRun.objects.select_for_update().filter(name=name).first()
            if run is None:
                try:
                    with transaction.atomic():
                        run = PeriodicRun.objects.create(name=name, next_run_at=now)
                except IntegrityError:  # another tick made it first
                    run = PeriodicRun.objects.select_for_update().get(name=name)
            if run.next_run_at > now:
                continue
            run.next_run_at, run.last_enqueued_at = now + job.every, now
            run.save(update_fields=["next_run_at", "last_enqueued_at"])
            import_string(job.task).enqueue()  # in this transaction: both happen or neither
            enqueued.append(name)
    return enqueued


def _defers():
    return task_backends[tick.backend].supports_defer


@task()
def tick():
    """Enqueue the due jobs, then the next tick (on a backend that can wait: the database's)."""
    try:
        return {"enqueued": enqueue_due()}
    finally:
        if _defers():
            tick.using(run_after=timezone.now() + TICK_EVERY).enqueue()


def waiting_ticks():
    """How many ticks wait to run (on the database backend; 0 elsewhere)."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="READY", task_path=tick.module_path).count()


def start():
    """Enqueue a tick now unless one is waiting; True if one was enqueued."""
    if not _defers() or waiting_ticks():
        return False
    tick.enqueue()
    return True
