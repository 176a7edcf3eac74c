"""Public pages. Each reads only `Project.objects.published()`."""

from functools import partial

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, F, Func, Window
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from registry import counts as public_counts
from registry.absolute import absolute
from registry.context_processors import request_tracks
from registry.filters import ProjectFilterSet, active_filters, query_without
from registry.landscape import TILES_PER_TRACK, first_tiles, tiles
from registry.models import Project
from registry.pagecache import cache_public_page
from registry.stats import public_numbers, track_counts


def public_projects():
    return Project.objects.published().select_related("track")


@require_safe
@cache_public_page
def home(request):
    projects = public_projects()
    tracks = request_tracks(request)
    numbers, per_track = public_numbers()  # the counts PostgreSQL keeps, else one query
    cards = projects.only(*CARD_FIELDS).newest_first()
    context = {
        "project_count": numbers["projects"],
        "country_count": numbers["countries"],
        "reviewed_count": numbers["reviewed"],
        "track_count": len(tracks),
        "tracks": [(track, per_track.get(track.pk, 0)) for track in tracks],
        "newest": cards[:8],
        "featured": cards.filter(featured=True)[:4],
    }
    return render(request, "registry/home.html", context)


PAGE_SIZES = (24, 48, 96)

# What a project card shows (registry/project_list.html#card), with its track and its
# provenance (Project.provenance).
CARD_FIELDS = (
    "name",
    "name_en",
    "slug",
    "tagline",
    "logo",
    "status",
    "status_since",
    "track",
    "verified",
    "claimed_at",
    "listed_by",
)


def page_size(request):
    """The page size asked for, if it is one we offer."""
    try:
        size = int(request.GET.get("per_page", ""))
    except ValueError:
        return settings.PROJECTS_PER_PAGE
    return size if size in PAGE_SIZES else settings.PROJECTS_PER_PAGE


class Unindexed(Func):
    """A column to order by, written on PostgreSQL with a no-op (`id + 0`, `name || ''`,
    `published_at + interval '0'`) so that no index can give its order: the same values in
    the same order. For the pass that counts every match (COUNT(*) OVER ()): PostgreSQL 15
    costs that window as if its LIMIT let it stop early, and for a search sorted by date it
    walked the whole publication index backwards, testing each of 100,000 rows against the
    search tokens (2-7 s), instead of taking the few thousand matches from the token index
    and sorting them (docs/performance.md)."""

    NO_OP = {"CharField": "({} || '')", "TextField": "({} || '')", "SlugField": "({} || '')",
             "DateTimeField": "({} + interval '0 seconds')"}  # fmt: skip

    def __init__(self, name):
        super().__init__(F(name))

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        kind = self.source_expressions[0].output_field.get_internal_type()
        return self.NO_OP.get(kind, "({} + 0)").format(sql), params

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


def unindexed_ordering(queryset):
    """`queryset`'s ordering with every named column Unindexed (expressions kept as they are)."""
    ordering = []
    for item in queryset.query.order_by or queryset.model._meta.ordering:
        if isinstance(item, str):
            name = item.lstrip("-")
            item = Unindexed(name).desc() if item.startswith("-") else Unindexed(name).asc()
        ordering.append(item)
    return queryset.order_by(*ordering)


def paginate(request, queryset, filterset=None):
    """The page asked for, as template context. A malformed number is page 1 and one past
    the end is the last page (Paginator.get_page).

    Two queries at most, each reading only what it needs: projects that PostgreSQL counts
    ahead (registry.counts: `filterset`'s filters are none, or values of one filter) take
    that number (else a COUNT(*) from an index), and their page is its ids, in the list's
    order, then their rows, in one query (the ids of any page, however deep, come from the
    public index alone). Other lists (a search, several filters), whose matches are read
    row by row anyway, read their page's ids and the number of matches in one pass over
    them (COUNT(*) OVER ()), then the page's rows. Only what a card shows is read."""
    paginator = Paginator(queryset, page_size(request))
    number = request.GET.get("page")
    scopes = public_counts.scopes_for(filterset) if filterset is not None else None
    found = public_counts.read(scopes) if scopes is not None else None
    ids = None
    if found is not None:
        paginator.count = found.total("*")  # instead of Paginator's COUNT(*)
    elif filterset is not None and scopes is None:  # rows to read anyway: count them on the way
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        start = (number - 1) * paginator.per_page
        if 0 <= start < 2**31:  # a page that can exist (no OFFSET past what SQL accepts)
            window = unindexed_ordering(queryset).annotate(_matches=Window(Count("pk")))
            window = window.values_list("pk", "_matches")
            first = list(window[start : start + paginator.per_page])
            if first:  # else no match, or past the last page: counted, then the last page
                paginator.count = first[0][1]
                ids = [pk for pk, _matches in first]
    page = paginator.get_page(number)
    cards = queryset.model.objects.select_related("track").only(*CARD_FIELDS)
    if ids is not None:
        by_id = cards.in_bulk(ids)
        page.object_list = [by_id[pk] for pk in ids]
    else:
        window = page.object_list
        ordering = window.query.order_by or queryset.model._meta.ordering
        page.object_list = cards.filter(pk__in=window.values("pk")).order_by(*ordering)
    return {"page": page, "paginator": paginator, "page_range": paginator.get_elided_page_range(page.number)}


@require_safe
@cache_public_page
def project_list(request):
    tracks = partial(request_tracks, request)  # read only if the filters need them
    filterset = ProjectFilterSet(request.GET, queryset=public_projects(), tracks=tracks)
    context = {
        "filterset": filterset,
        **paginate(request, filterset.qs, filterset),
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
    # what it became and who acquired it in the same query (a few of their columns); what links
    # here, only if anything does
    found = public_projects().annotate(is_linked_here=Project.linked_here(), **Project.link_annotations())
    project = get_object_or_404(found, slug=slug)
    context = {
        "project": project,
        "lineage": project.lineage(),
        "secondary_tracks": project.secondary_tracks.all(),
        "similar": public_projects()
        .filter(track=project.track_id)
        .exclude(pk=project.pk)
        .only(*CARD_FIELDS)
        .newest_first()[:4],
    }
    return render(request, "registry/project_detail.html", context)


@require_safe
@cache_public_page
def track_detail(request, slug):
    """One track: the list, filtered to it (the same FilterSet, so every filter still applies)."""
    tracks = request_tracks(request)
    track = next((track for track in tracks if track.slug == slug), None)
    if track is None:
        raise Http404("No such track.")
    params = request.GET.copy()
    params.setlist("track", [track.slug])
    filterset = ProjectFilterSet(params, queryset=public_projects(), tracks=tracks)
    context = {
        "track": track,
        **paginate(request, filterset.qs, filterset),
        "query": query_without(request.GET, "page"),
    }
    return render(request, "registry/track_detail.html", context)


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
        f"Sitemap: {absolute(reverse('registry:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


MAP_TILES_PER_TRACK = TILES_PER_TRACK


@require_safe
@cache_public_page
def landscape(request):
    """Every track a panel of logo tiles (the list's filters apply), at most
    MAP_TILES_PER_TRACK tiles each, by name, with a link to the rest."""
    tracks = request_tracks(request)
    filterset = ProjectFilterSet(request.GET, queryset=Project.objects.published(), tracks=tracks)
    counts = track_counts(filterset)
    shown = [track.pk for track in tracks if counts.get(track.pk)]
    first = first_tiles(filterset.qs, shown, filtered=filterset.narrows_beyond_tracks())
    panels = []
    for track in tracks:
        rows = first.get(track.pk, [])
        panels.append(
            {
                "track": track,
                "url": track.get_absolute_url(),
                "rows": rows,
                "tiles": partial(tiles, rows),  # called by the template only if the panels are not cached
                "shown": len(rows),
                "total": counts.get(track.pk, 0),
            }
        )
    context = {
        "filterset": filterset,
        "panels": panels,
        "total": sum(counts.values()),
        "chips": active_filters(filterset, request.GET),
        "ignored": filterset.ignored_messages(),
        "query": query_without(request.GET, "page"),
    }
    return render(request, "registry/landscape.html", context)
