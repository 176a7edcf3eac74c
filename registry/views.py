"""Public pages. Each reads only `Project.objects.published()`."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from registry.filters import ProjectFilterSet, active_filters, query_without
from registry.models import Project, Track
from registry.pagecache import cache_public_page
from registry.stats import decisions_per_track, project_stats, totals, track_counts


def public_projects():
    return Project.objects.published().select_related("track")


@require_safe
@cache_public_page
def home(request):
    projects = public_projects()
    numbers = totals(projects)
    tracks = list(Track.objects.all())
    counts = track_counts(projects)
    context = {
        "project_count": numbers["projects"],
        "country_count": numbers["countries"],
        "reviewed_count": numbers["reviewed"],
        "track_count": len(tracks),
        "tracks": [(track, counts.get(track.pk, 0)) for track in tracks],
        "newest": projects.newest_first()[:8],
        "featured": projects.filter(featured=True).newest_first()[:4],
    }
    return render(request, "registry/home.html", context)


PAGE_SIZES = (24, 48, 96)


def page_size(request):
    """The page size asked for, if it is one we offer."""
    try:
        size = int(request.GET.get("per_page", ""))
    except ValueError:
        return settings.PROJECTS_PER_PAGE
    return size if size in PAGE_SIZES else settings.PROJECTS_PER_PAGE


def paginate(request, queryset):
    """The page asked for, as template context. A malformed number is page 1 and one past
    the end is the last page (Paginator.get_page)."""
    paginator = Paginator(queryset, page_size(request))
    page = paginator.get_page(request.GET.get("page"))
    return {"page": page, "paginator": paginator, "page_range": paginator.get_elided_page_range(page.number)}


@require_safe
@cache_public_page
def project_list(request):
    filterset = ProjectFilterSet(request.GET, queryset=public_projects())
    context = {
        "filterset": filterset,
        **paginate(request, filterset.qs),
        "query": query_without(request.GET, "page"),
        "chips": active_filters(filterset, request.GET),
        "ignored": filterset.ignored_messages(),
        "page_sizes": PAGE_SIZES,
    }
    template = "registry/project_list.html"
    if request.htmx:
        template += "#results"  # only the results: the filters stay as they are
    return render(request, template, context)


@require_safe
@cache_public_page
def project_detail(request, slug):
    project = get_object_or_404(public_projects(), slug=slug)
    context = {
        "project": project,
        "secondary_tracks": project.secondary_tracks.all(),
        "similar": public_projects().filter(track=project.track_id).exclude(pk=project.pk).newest_first()[:4],
    }
    return render(request, "registry/project_detail.html", context)


@require_safe
@cache_public_page
def track_detail(request, slug):
    """One track: the list, filtered to it (the same FilterSet, so every filter still applies)."""
    track = get_object_or_404(Track, slug=slug)
    params = request.GET.copy()
    params.setlist("track", [track.slug])
    filterset = ProjectFilterSet(params, queryset=public_projects())
    context = {
        "track": track,
        **paginate(request, filterset.qs),
        "query": query_without(request.GET, "page"),
    }
    return render(request, "registry/track_detail.html", context)


@require_safe
@cache_public_page
def stats(request):
    """Charts of the published projects (the list's filters apply), and the decisions per track."""
    filterset = ProjectFilterSet(request.GET, queryset=Project.objects.published())
    projects = filterset.qs
    tracks = list(Track.objects.all())
    numbers, charts = project_stats(projects, tracks, request.GET)
    decisions, decision_total = decisions_per_track(tracks)
    context = {
        "filterset": filterset,
        "numbers": numbers,
        "charts": charts,
        "decisions": decisions,
        "decision_total": decision_total,
        "chips": active_filters(filterset, request.GET),
        "ignored": filterset.ignored_messages(),
        "query": query_without(request.GET, "page"),
    }
    return render(request, "registry/stats.html", context)


@require_safe
@cache_public_page
def about_review(request):
    return render(request, "registry/about_review.html", {"approvals": settings.REVIEW_APPROVALS_REQUIRED})


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /my/",
        f"Sitemap: {request.build_absolute_uri(reverse('registry:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


MAP_TILES_PER_TRACK = 60


@require_safe
@cache_public_page
def landscape(request):
    """Every track a panel of logo tiles (the list's filters apply), at most
    MAP_TILES_PER_TRACK tiles each, with a link to the rest."""
    filterset = ProjectFilterSet(request.GET, queryset=public_projects())
    projects = filterset.qs
    counts = dict(projects.order_by().values_list("track").annotate(total=Count("pk")))
    first_in_track = Window(RowNumber(), partition_by=[F("track")], order_by=[F("name").asc(), F("pk").asc()])
    tiles = {}
    for project in (
        projects.annotate(place=first_in_track)
        .filter(place__lte=MAP_TILES_PER_TRACK)
        .order_by("track", "place")
    ):
        tiles.setdefault(project.track_id, []).append(project)
    panels = [
        {"track": track, "projects": tiles.get(track.pk, []), "total": counts.get(track.pk, 0)}
        for track in Track.objects.all()
    ]
    context = {
        "filterset": filterset,
        "panels": panels,
        "total": sum(counts.values()),
        "chips": active_filters(filterset, request.GET),
        "ignored": filterset.ignored_messages(),
        "query": query_without(request.GET, "page"),
    }
    return render(request, "registry/landscape.html", context)
