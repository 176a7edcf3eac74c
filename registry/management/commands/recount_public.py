"""manage.py recount_public: count the public projects afresh (registry/counts.py)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from registry import counts
from registry.models import PublicCount


class Command(BaseCommand):
    help = (
        "Count every public project afresh for the map, the statistics and the home page "
        "(PostgreSQL keeps these counts up to date by itself; this is for after a change of "
        "TIME_ZONE, or after a TRUNCATE of the projects)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--time-zone",
            default=settings.TIME_ZONE,
            help=f"The time zone of the months counted (default: TIME_ZONE, {settings.TIME_ZONE}).",
        )

    def handle(self, *args, time_zone, **options):
        if not counts.kept():
            self.stdout.write("This database keeps no counts (not PostgreSQL): the pages count afresh.")
            return
        start = time.perf_counter()
        with transaction.atomic():
            counts.rebuild(time_zone)
        found = counts.read()
        self.stdout.write(
            f"Counted {found.total():,} public projects into {PublicCount.objects.count():,} counts "
            f"(months in {time_zone}) in {time.perf_counter() - start:.1f} s."
        )
