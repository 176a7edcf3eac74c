"""Open data: the CSV and JSON downloads and the read-only JSON API.

All of them read `Project.objects.published()` through the list's ProjectFilterSet, so
the same GET parameters filter every format, and nothing unpublished can appear.
"""

from django.core.paginator import InvalidPage, Paginator
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from registry import downloadfiles, exportlimit, opendata, survival
from registry.absolute import absolute
from registry.filters import ProjectFilterSet, query_without
from registry.models import Project, Track
from registry.pagecache import cache_public_page
from registry.spreadsheets import csv_lines

API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200
RETRY_AFTER = 10  # seconds: a 429 for a second download at once


def open_projects():
    return Project.objects.published().select_related("track").prefetch_related("secondary_tracks")


def _json(data, status=200):
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _filtered(request):
    return ProjectFilterSet(request.GET, queryset=open_projects()).qs


def _download(request, name):
    """The whole map from its file (registry.downloadfiles); filtered downloads, and the whole
    map while it has no current file, written here: one at a time per client (429 beyond)."""
    if not request.GET:
        response = downloadfiles.serve(request, name)
        if response is not None:
            return response
    give_back = exportlimit.take(request)
    if give_back is None:
        response = render(
            request, "429.html", {"whole_map": reverse(request.resolver_match.view_name)}, status=429
        )
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    form = downloadfiles.FORMATS[name]
    records = opendata.export_records(downloadfiles.export_queryset(request.GET), absolute)
    response = StreamingHttpResponse(
        exportlimit.Holding(form.pieces(records), give_back), content_type=form.content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{form.filename}"'
    return response


@require_safe
def projects_csv(request):
    return _download(request, "csv")


@require_safe
def projects_json(request):
    return _download(request, "json")


@require_safe
@cache_public_page
def api_projects(request):
    try:
        size = min(int(request.GET.get("page_size", API_PAGE_SIZE)), API_MAX_PAGE_SIZE)
        if size < 1:
            raise ValueError
    except ValueError:
        return _json(
            {"detail": _("page_size must be a whole number from 1 to %(max)s.") % {"max": API_MAX_PAGE_SIZE}},
            400,
        )
    filterset = ProjectFilterSet(request.GET, queryset=open_projects())
    paginator = Paginator(filterset.qs, size)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        return _json({"detail": _("There is no such page.")}, 404)

    def link(number):
        base = query_without(request.GET, "page")
        return absolute(request.path + (f"?{base}&page={number}" if base else f"?page={number}"))

    return _json(
        {
            "count": paginator.count,
            "next": link(page.next_page_number()) if page.has_next() else None,
            "previous": link(page.previous_page_number()) if page.has_previous() else None,
            "ignored": [str(message) for message in filterset.ignored_messages()],
            "results": [opendata.record(project, absolute) for project in page.object_list],
        }
    )


@require_safe
@cache_public_page
def api_project(request, slug):
    project = get_object_or_404(open_projects(), slug=slug)
    return _json(opendata.record(project, absolute))


@require_safe
@cache_public_page
def api_tracks(request):
    public = Q(projects__in=Project.objects.published())
    tracks = Track.objects.annotate(project_count=Count("projects", filter=public)).order_by("order", "pk")
    return _json(
        {
            "count": len(tracks),
            "results": [
                {
                    "slug": track.slug,
                    "name_zh": track.name_zh,
                    "name_en": track.name_en,
                    "description_zh": track.description_zh,
                    "description_en": track.description_en,
                    "color": track.color,
                    "order": track.order,
                    "project_count": track.project_count,
                    "url": absolute(track.get_absolute_url()),
                }
                for track in tracks
            ],
        }
    )


# --- Survival by cohort (registry.survival): the figures of /stats/, as JSON and CSV ---------


def _survival(request):
    """(the filter set, the Survival) of the public projects the list's filters select, as
    /stats/ shows them: two queries at most (the tracks, the figures: kept a minute)."""
    filterset = ProjectFilterSet(request.GET, queryset=Project.objects.published())
    return filterset, survival.survival(filterset.qs, filterset.tracks(), request.GET)


@require_safe
@cache_public_page
def api_survival(request):
    filterset, found = _survival(request)
    return _json(
        {
            "time_zone": found.time_zone,
            "ignored": [str(message) for message in filterset.ignored_messages()],
            "cohorts": found.record(),
        }
    )


@require_safe
@cache_public_page
def survival_csv(request):
    """A few hundred rows at most: written whole (so the page cache can keep it), not streamed."""
    _filterset, found = _survival(request)
    response = HttpResponse(
        "".join(csv_lines(survival.CSV_COLUMNS, found.csv_rows())), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="aimap-survival.csv"'
    return response
