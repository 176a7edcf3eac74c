"""Importing the long list in the admin: upload, preview, confirm (editors only).

The upload is kept as a ListImport between preview and confirmation, so the preview and
the import read the very same bytes, whichever app server answers. The file is read once,
at the upload (importing.read_file: the workbook parsed, every row checked, every logo
decoded), and what was read is kept with it (ListImport.plan): each view of the preview and
the confirmation only match those rows against the map as it is then (importing.plan_from),
without reading the file or decoding a logo again; logos are re-encoded and stored only by
the import itself, so an upload never imported leaves no file behind. What a row means and
what is written is review.importing's; these views only show its plan and call it.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from review import importing
from review.admin_forms import ImportConfirmForm, ImportUploadForm
from review.models import ListImport
from review.roles import is_editor

PREVIEW_ROWS = 2500  # rows without problems shown in a preview (a real list's); problems are always all shown
REPORT_ROWS = 500  # rows with problems kept in an import's summary


def row_report(rows, limit=REPORT_ROWS):
    """The rows an editor must look at, as plain data (for the summary kept afterwards)."""
    report = []
    for row in rows:
        if row.errors or row.warnings or row.similar:
            report.append(
                {
                    "line": row.line,
                    "name": row.name,
                    "action": row.action,
                    "errors": row.errors,
                    "warnings": row.warnings,
                    "similar": row.similar,
                }
            )
    return report[:limit]


@admin.register(ListImport)
class ListImportAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "summary_text", "created_by", "created_at", "applied_at"]
    list_filter = ["state"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"

    # Editors only; an import stays as the record of what came in.
    def has_module_permission(self, request):
        return is_editor(request.user)

    def has_view_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_add_permission(self, request):
        return is_editor(request.user)

    def has_change_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data", "logos", "plan")

    @admin.display(description=_("summary"))
    def summary_text(self, batch):
        counts = batch.summary or {}
        if not counts:
            return ""
        return _("%(create)s new, %(update)s updated, %(unchanged)s unchanged, %(error)s with errors") % {
            "create": counts.get("created", counts.get("create", 0)),
            "update": counts.get("updated", counts.get("update", 0)),
            "unchanged": counts.get("unchanged", 0),
            "error": counts.get("errors", counts.get("error", 0)),
        }

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/confirm/", view(self.confirm_view), name="review_listimport_confirm"),
            path("<int:pk>/discard/", view(self.discard_view), name="review_listimport_discard"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    # --- Upload ---------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload, logos = form.cleaned_data["file"], form.cleaned_data["logos"]
            data = upload.read()
            logo_bytes = logos.read() if logos else None
            read = self._read_upload(form, data, logo_bytes)
            if read is not None:
                plan = importing.plan_from(read)
                batch = ListImport.objects.create(
                    file_name=upload.name[:255],
                    data=data,
                    logos_name=logos.name[:255] if logos else "",
                    logos=logo_bytes,
                    encoding=form.cleaned_data["encoding"],
                    public_contact_emails=form.cleaned_data["public_contact_emails"],
                    source_name=form.cleaned_data["source_name"],
                    source_url=form.cleaned_data["source_url"],
                    source_licence=form.cleaned_data["source_licence"],
                    summary=plan.counts,
                    plan=read,
                    created_by=request.user,
                )
                return redirect("admin:review_listimport_change", batch.pk)
        context = self._context(request, _("Import a list of projects"), form=form)
        return TemplateResponse(request, "admin/review/listimport/upload.html", context)

    def _read_upload(self, form, data, logo_bytes):
        """What importing.read_file takes from an upload; or None, with the error added next
        to the field it is about."""
        field = "logos"
        try:
            # The ZIP's own problems first: the list's messages may say "ZIP" too (an XLSX is one).
            importing.open_logos(logo_bytes)
            field = "file"
            return importing.read_file(
                data,
                encoding=form.cleaned_data["encoding"],
                logos=logo_bytes,
                public_contact_emails=form.cleaned_data["public_contact_emails"],
            )
        except importing.ImportError_ as error:
            form.add_error(field, str(error))
            return None

    # --- Preview (and, once imported, the report) ----------------------------------------

    @staticmethod
    def _read(batch):
        """What was read from the upload: kept since the upload, or, for an upload kept before
        reads were (or read by another version of read_file), read again now. Not kept then:
        viewing a page writes nothing, and such uploads only wait from before a deployment."""
        if batch.plan and batch.plan.get("version") == importing.READ_VERSION:
            return batch.plan
        return importing.read_file(
            bytes(batch.data),
            encoding=batch.encoding,
            logos=bytes(batch.logos) if batch.logos else None,
            public_contact_emails=batch.public_contact_emails,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        object_id = str(object_id)
        # ASCII digits only: "²".isdigit() is true too, and int("²") fails (a 500).
        if not (object_id.isascii() and object_id.isdigit()):
            return redirect("admin:review_listimport_changelist")
        batch = get_object_or_404(ListImport.objects.defer("data", "logos"), pk=object_id)
        context = self._context(request, str(batch), batch=batch)
        if batch.state == ListImport.State.PREVIEWED:
            try:
                plan = importing.plan_from(self._read(batch))
            except importing.ImportError_ as error:
                context["file_error"] = str(error)
            else:
                problems = [row for row in plan.rows if row.errors or row.warnings or row.similar]
                others = [row for row in plan.rows if row not in problems and row.action != "unchanged"]
                flagged = [row.line for row in plan.rows if row.flagged]
                context.update(
                    plan=plan,
                    counts=plan.counts,
                    problems=problems,
                    others=others[:PREVIEW_ROWS],
                    others_hidden=max(0, len(others) - PREVIEW_ROWS),
                    confirm_form=ImportConfirmForm(flagged_lines=flagged),
                    per_track=plan.totals("track"),
                    per_country=plan.totals("hq_country"),
                )
        return TemplateResponse(request, "admin/review/listimport/preview.html", context)

    # --- Confirm / discard ---------------------------------------------------------------

    @method_decorator(require_POST)
    def confirm_view(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(ListImport.objects.defer("data", "logos"), pk=pk)
        form = ImportConfirmForm(request.POST, flagged_lines=request.POST.getlist("include"))
        if not form.is_valid():
            messages.error(request, _("Choose what to do with the rows that have errors."))
            return redirect("admin:review_listimport_change", pk)
        try:
            with transaction.atomic():
                batch = ListImport.objects.select_for_update().get(pk=pk)
                if batch.state != ListImport.State.PREVIEWED:
                    messages.error(request, _("This list was already imported or discarded."))
                    return redirect("admin:review_listimport_change", pk)
                # The rows are matched against the map again, inside this transaction: what
                # the preview showed may have changed since (importing.apply_import).
                result = importing.apply_import(
                    None,
                    read=self._read(batch),
                    actor=request.user,
                    encoding=batch.encoding,
                    logos=bytes(batch.logos) if batch.logos else None,
                    public_contact_emails=batch.public_contact_emails,
                    source=batch.file_name,
                    all_or_nothing=form.cleaned_data["mode"] == ImportConfirmForm.ALL_OR_NOTHING,
                    include_flagged=form.cleaned_data["include"],
                    origin=importing.Origin(batch.source_name, batch.source_url, batch.source_licence),
                    publish=form.cleaned_data["publish"] != ImportConfirmForm.LATER,
                )
                if result.applied:
                    batch.state, batch.applied_at = ListImport.State.APPLIED, timezone.now()
                    batch.summary = {**result.as_dict(), "rows": row_report(result.plan.rows)}
                    batch.plan = None  # what was read is no longer needed: `data` stays the record
                    batch.save(update_fields=["state", "applied_at", "summary", "plan"])
        except importing.ImportError_ as error:
            messages.error(request, str(error))
            return redirect("admin:review_listimport_change", pk)
        except DatabaseError:
            messages.error(
                request,
                _("The map changed while the list was being imported; nothing was imported. Try again."),
            )
            return redirect("admin:review_listimport_change", pk)
        (messages.success if result.applied else messages.error)(request, result.message)
        return redirect("admin:review_listimport_change", pk)

    @method_decorator(require_POST)
    def discard_view(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        updated = ListImport.objects.filter(pk=pk, state=ListImport.State.PREVIEWED).update(
            state=ListImport.State.DISCARDED, plan=None
        )
        if updated:
            messages.success(request, _("The list was discarded; nothing was imported."))
        return redirect(reverse("admin:review_listimport_changelist"))
