"""manage.py import_projects FILE [--dry-run]: the admin's import, for scripts.

Prints what was (or, with --dry-run, would be) done and every row with an error, a
warning or a look-alike. Exits with status 1 when the file cannot be imported, or when
rows have errors and --all-or-nothing was given (nothing is written then).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.spreadsheets import AUTO, ENCODINGS
from review import importing
from review.roles import is_editor


class Command(BaseCommand):
    help = "Import listings from a CSV or XLSX file (the open-data columns), as the editors."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument("--logos", type=Path, help="A ZIP of the logo files the 'logo' column names.")
        parser.add_argument("--encoding", choices=(AUTO, *ENCODINGS), default=AUTO)
        parser.add_argument(
            "--all-or-nothing", action="store_true", help="Write nothing when any row has an error."
        )
        parser.add_argument(
            "--include-flagged",
            action="store_true",
            help="Also import new rows that look like another listing (skipped by default).",
        )
        parser.add_argument(
            "--public-contact-emails",
            action="store_true",
            help="The file's contact emails are public ones (an open-data export): show them.",
        )
        parser.add_argument("--by", metavar="EMAIL", help="The editor the audit trail names.")
        parser.add_argument(
            "--source-name", default="", help="Who published the list (credited on each listing)."
        )
        parser.add_argument("--source-url", default="", help="The list's address.")
        parser.add_argument("--source-licence", default="", help="The list's licence, e.g. CC-BY-4.0.")
        parser.add_argument(
            "--unpublished",
            action="store_true",
            help="Import new listings unpublished (editors publish them later); by default they are published now.",
        )

    def handle(self, *args, **options):
        data = self._read(options["file"])
        logos = self._read(options["logos"]) if options["logos"] else None
        actor = self._editor(options["by"]) if options["by"] else None
        try:
            read = importing.read_file(
                data,
                encoding=options["encoding"],
                logos=logos,
                public_contact_emails=options["public_contact_emails"],
            )
            flagged = ()
            if options["include_flagged"]:
                flagged = [row.line for row in importing.plan_from(read).rows if row.flagged]
            result = importing.apply_import(
                data,
                read=read,
                actor=actor,
                encoding=options["encoding"],
                logos=logos,
                public_contact_emails=options["public_contact_emails"],
                source=options["file"].name,
                all_or_nothing=options["all_or_nothing"],
                include_flagged=flagged,
                dry_run=options["dry_run"],
                origin=importing.Origin(
                    options["source_name"], options["source_url"], options["source_licence"]
                ),
                publish=not options["unpublished"],
            )
        except importing.ImportError_ as error:
            raise CommandError(str(error)) from None
        self._report(result)
        if options["all_or_nothing"] and result.plan.has_errors:
            raise CommandError(result.message)

    def _read(self, path):
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None

    def _editor(self, email):
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None or not is_editor(user):
            raise CommandError(f"{email} is not an editor.")
        return user

    def _report(self, result):
        plan = result.plan
        counts = plan.counts
        # apply_import has turned the look-alikes not asked for into skips: count them apart
        # from the founders' listings (only new rows have look-alikes).
        flagged = sum(1 for row in plan.rows if row.similar)
        left_alone = sum(1 for row in plan.rows if row.action == "skip" and not row.similar)
        self.stdout.write(
            f"{counts['rows']} rows ({plan.format}{', ' + plan.encoding if plan.encoding else ''}): "
            f"{counts['create']} new, {counts['update']} updated, {counts['unchanged']} unchanged, "
            f"{left_alone} left alone, {flagged} look-alikes, {counts['error']} with errors"
        )
        for warning in plan.warnings:
            self.stdout.write(f"warning: {warning}")
        for row in plan.rows:
            notes = [*row.errors, *row.warnings]
            if row.similar:
                notes.append("looks like: " + "; ".join(row.similar))
            if notes:
                self.stdout.write(
                    f"line {row.line} {row.name or '(no name)'} [{row.action}]: " + " | ".join(notes)
                )
        style = self.style.SUCCESS if result.applied else self.style.WARNING
        self.stdout.write(style(result.message))
