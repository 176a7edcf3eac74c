"""`manage.py start_schedule`: make sure the periodic jobs' tick waits in the task table
(review.schedule). Idempotent: run it before every worker start."""

from django.core.management.base import BaseCommand

from review import schedule


class Command(BaseCommand):
    help = "Enqueue the periodic jobs' tick (review.schedule) unless one is waiting."

    def handle(self, *args, **options):
        started = schedule.start()
        self.stdout.write("The schedule's tick is enqueued." if started else "A tick is already waiting.")
