"""manage.py seed_demo: the demo map.

registry/demo.py makes the logos, accounts and projects (on PostgreSQL a large load goes
through registry/bulkload.py); review/demo.py then adds one submission in every workflow
state. The command lives in aimap because it uses both apps.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry import demo
from registry.bulkload import Phases
from registry.models import Project
from review.demo import seed_concerns, seed_submissions


class Command(BaseCommand):
    help = (
        "Add a deterministic, clearly fictional demo map: accounts, a logo pool and projects. "
        "Running it again adds only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--projects",
            type=int,
            default=demo.DEFAULT_PROJECTS,
            help=f"How many demo projects there should be (default {demo.DEFAULT_PROJECTS}).",
        )

    def handle(self, *args, projects, verbosity, **options):
        if projects < 0:
            raise CommandError("--projects must be 0 or more.")
        demo_passwords = settings.DEBUG  # known passwords only on a development machine
        phases = Phases()

        with phases("logos"):
            logos_created, logos_there = demo.ensure_logos()
        with phases("accounts"):
            accounts = demo.ensure_accounts(demo_passwords)
        try:
            report = demo.seed_projects(projects, phases=phases)
        except LookupError as error:
            raise CommandError(str(error)) from None
        with phases("submissions"):
            submissions_created, submissions_there = seed_submissions()
        with phases("reports"):
            reports_created = seed_concerns()
        if verbosity >= 2:
            self.stdout.write("Seconds per phase:")
            for name, seconds in phases.seconds.items():
                self.stdout.write(f"  {name:<22} {seconds:7.2f}")

        self.stdout.write(f"Logos: {logos_created} created, {logos_there} already there ({demo.LOGO_DIR}/).")
        self.stdout.write(
            f"Projects: {report.created} created, {report.already_there} already there "
            f"({report.secondary_rows} secondary-track links added); "
            f"{Project.objects.published().count()} public now."
        )
        self.stdout.write(
            f"Submissions: {submissions_created} created, {submissions_there} already there "
            "(one in every workflow state, owned by the demo founder)."
        )
        self.stdout.write(
            f"Maybe-gone queue: {reports_created} reports and link alerts added "
            f"({report.linked} pivots and acquisitions linked to a listing on the map)."
        )
        self.stdout.write(f"Accounts (log in at {settings.SITE_URL}/admin/):")
        for username, (user, created) in accounts.items():
            state = "created" if created else "already there"
            if not user.has_usable_password():
                note = f"no usable password; set one with: manage.py changepassword {username}"
            elif demo_passwords:
                account = next(a for a in demo.DEMO_ACCOUNTS if a.username == username)
                note = f"password {account.password}" + ("" if created else " (unless changed since)")
            else:
                note = "password unchanged"
            self.stdout.write(f"  {username:<9} {state}; {note}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
