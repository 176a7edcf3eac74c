"""manage.py unknown_imported_countries [--dry-run]: give back "unknown" to the country of
editors' listings that got China only as the old default.

Until imports stopped inventing facts, a listing imported from a file that did not give a
country was stored with the model's default, CN. For every editors' listing that is not yet
reviewed and says CN, this looks for the stored import it came from (the list's file is kept
with each ListImport): when that file's row for it gives no country, the country becomes
unknown (through review.listings, with an Event). When no stored import shows it, the
listing is left as it is and counted; reviewed listings, founders' listings and the demo's
are never touched.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from registry.models import Project
from review import importing, listings
from review.models import ListImport


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; change nothing."
        )

    def handle(self, *args, **options):
        candidates = Project.objects.filter(
            listed_by=Project.ListedBy.EDITORS, verified=False, owner=None, hq_country="CN"
        )
        not_given = self._rows_without_a_country()
        changed, kept = [], []
        for project in candidates.order_by("pk"):
            found = not_given.get((project.name_key, importing.normalised_website(project.website)))
            if found is None and project.slug in not_given:
                found = not_given[project.slug]
            (changed if found else kept).append((project, found))
        if not options["dry_run"]:
            with transaction.atomic():
                for project, source in changed:
                    listings.forget_default_country(project, source=source)
        verb = "would become" if options["dry_run"] else "became"
        self.stdout.write(
            f"{len(changed)} editors' listings {verb} of unknown country (their import gave none); "
            f"{len(kept)} say CN and no stored import shows whether their file gave it: left as they are."
        )
        for project, source in changed[:50]:
            self.stdout.write(f"  {project.slug}: {source}")

    def _rows_without_a_country(self):
        """{(name key, website) or slug: "line N of FILE"} of the rows of every applied import
        that give no country."""
        found = {}
        for batch in ListImport.objects.filter(state=ListImport.State.APPLIED).order_by("pk"):
            try:
                plan = importing.plan_import(
                    bytes(batch.data),
                    encoding=batch.encoding,
                    logos=bytes(batch.logos) if batch.logos else None,
                )
            except importing.ImportError_:
                continue
            for row in plan.rows:
                if not row.values.get("name") or row.given("hq_country"):
                    continue
                where = f"line {row.line} of {batch.file_name}"
                if row.values.get("slug"):
                    found.setdefault(row.values["slug"], where)
                key = (
                    importing.normalised_name(row.values["name"]),
                    importing.normalised_website(row.values.get("website", "")),
                )
                found.setdefault(key, where)
        return found
