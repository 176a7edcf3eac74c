"""What is measured: the public URLs of the issue, the floor, and the admin changelist with
the same filter, search and page. Needs Django set up (bench.run does it)."""

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

# The demo data's vocabulary (registry/demo.py): each term is in several thousand projects.
TRACK = "healthcare"  # about 5,900 public projects
ZH2 = "语音"  # "voice": in product descriptions of several tracks
ZH4 = "开箱即用"  # "ready in an afternoon": one of the taglines' benefits
EN = "assistant"
STAGE, FUNDING = "launched", "seed"
PROJECT_NUMBER = 50_000  # the project page shows the first public demo project from here on
ADMIN_CHANGELIST = "/admin/registry/project/"


@dataclass
class Page:
    key: str
    label: str
    path: str
    kind: str  # "public", "floor" or "admin"
    list_page: bool = False  # a /projects/ page (the list targets apply)
    admin_key: str = ""  # the admin changelist with the same query
    compare: str = ""  # "10x" or "30x": the target against the admin

    def as_dict(self):
        return asdict(self)


def _query(**params):
    return "?" + urlencode(params) if params else ""


def build(track_pk, project_slug):
    """[Page], public pages first, then the floor, then the admin references."""
    list_queries = [
        ("list", "/projects/ (no filter)", {}, "10x"),
        ("list-track", f"/projects/?track={TRACK}", {"track": TRACK}, "10x"),
        ("list-zh2", f"/projects/?q={ZH2} (2 Chinese characters)", {"q": ZH2}, "30x"),
        ("list-zh4", f"/projects/?q={ZH4} (4 Chinese characters)", {"q": ZH4}, "30x"),
        ("list-en", f"/projects/?q={EN} (English)", {"q": EN}, "30x"),
        (
            "list-3f-q",
            f"/projects/ track + stage + funding + q={ZH2}",
            {"track": TRACK, "stage": STAGE, "funding_stage": FUNDING, "q": ZH2},
            "",
        ),
        ("list-p200", "/projects/?page=200", {"page": 200}, "10x"),
        # Not in the list; they watch two plans that went wrong before (docs/performance.md).
        ("list-zh2-newest", f"/projects/?q={ZH2}&sort=newest", {"q": ZH2, "sort": "newest"}, ""),
        ("list-2f", "/projects/ stage + funding", {"stage": STAGE, "funding_stage": FUNDING}, ""),
        # Issue 14: the reviewed-only view (a flag in the filter vocabulary, counted like the others).
        ("list-reviewed", "/projects/?reviewed=1", {"reviewed": "1"}, ""),
    ]
    admin_params = {
        "list": {},
        "list-track": {"track__id__exact": track_pk},
        "list-zh2": {"q": ZH2},
        "list-zh4": {"q": ZH4},
        "list-en": {"q": EN},
        "list-3f-q": {
            "track__id__exact": track_pk,
            "stage__exact": STAGE,
            "funding_stage__exact": FUNDING,
            "q": ZH2,
        },
        "list-p200": {"p": 200},
    }
    pages = [
        Page(
            key,
            label,
            "/projects/" + _query(**params),
            "public",
            True,
            f"admin-{key}" if key in admin_params else "",
            compare,
        )
        for key, label, params, compare in list_queries
    ]
    pages += [
        Page("project", "project page", f"/projects/{project_slug}/", "public"),
        Page("map", "/map/", "/map/", "public"),
        Page("stats", "/stats/", "/stats/", "public"),
        Page("api-track", f"/api/projects/?track={TRACK}", f"/api/projects/?track={TRACK}", "public"),
        Page("csv-track", f"/data/projects.csv?track={TRACK}", f"/data/projects.csv?track={TRACK}", "public"),
        Page("floor", "floor: fixed page, same size and middleware", "/bench/floor/", "floor"),
    ]
    for key, label, _params, _compare in list_queries:
        if key not in admin_params:
            continue
        pages.append(
            Page(
                f"admin-{key}",
                f"admin changelist as {label}",
                ADMIN_CHANGELIST + _query(**admin_params[key]),
                "admin",
            )
        )
    return pages


def resolve():
    """(track primary key, project slug) in the benchmark database."""
    from registry import demo
    from registry.models import Project, Track

    track_pk = Track.objects.get(slug=TRACK).pk
    public = set(
        Project.objects.published()
        .filter(slug__in=demo.demo_slugs(PROJECT_NUMBER + 100)[PROJECT_NUMBER - 1 :])
        .values_list("slug", flat=True)
    )
    slug = next(
        demo.demo_slug(n) for n in range(PROJECT_NUMBER, PROJECT_NUMBER + 100) if demo.demo_slug(n) in public
    )
    return track_pk, slug


def matches(pages):
    """{key: public projects matched} for the list, API and CSV pages (the views' FilterSet)."""
    from django.http import QueryDict

    from registry.filters import ProjectFilterSet
    from registry.views import public_projects

    counts = {}
    for page in pages:
        if page.list_page or page.key in ("api-track", "csv-track"):
            query = page.path.partition("?")[2]
            counts[page.key] = ProjectFilterSet(QueryDict(query), queryset=public_projects()).qs.count()
    return counts
