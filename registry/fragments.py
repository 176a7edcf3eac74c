"""Keys for the parts of public pages that templates keep in the cache (`{% cache 600 ... %}`).

A few parts of the public pages are hundreds of small tags: the filter form (some 330
options), the map's tiles (up to 900), the statistics' charts. Written by the templates they
cost a request about 7 ms (the list's form), 11 ms (the statistics) and 30 ms (the map) of
CPU at 100,000 projects; kept, one cache lookup. Each key is a digest of everything its
fragment shows, and of the language, all read by the view anyway (the templates ask for it
with the filters of registry/templatetags/fragment_keys.py): a fragment is never
stale, whatever changed and whether or not the page cache (registry.pagecache) is on (other
data, other key), and the 600 s only bound how long an unused one takes memory. The cache
is the "template_fragments" one (aimap/settings.py: each process its own, in memory).

The pages are tested to be the same from these fragments as written afresh
(tests/registry/test_fragments.py).
"""

import hashlib
import pickle

from django.utils.translation import get_language


def digest(*parts):
    """A short digest of `parts` (numbers, text, and tuples or lists of them) in the current
    language (a fragment's labels are translated)."""
    return hashlib.blake2b(pickle.dumps((get_language(), parts), protocol=5), digest_size=16).hexdigest()


def filter_form_key(filterset):
    """The filter form of a list or statistics page: the values given (every parameter but
    the page) and the tracks it offers."""
    data = filterset.data if filterset.is_bound else {}
    given = sorted((name, data.getlist(name)) for name in data if name != "page")
    return digest("form", given, [(track.slug, track.name) for track in filterset.tracks()])


def filter_group_key(name, chosen, invalid, choices):
    """One group of the filter form's side panel (ProjectFilterSet.panel), kept apart so that
    a form with other values writes only the groups whose values changed."""
    return digest("group", name, sorted(chosen), invalid, choices)


def cards_key(projects):
    """Project cards (registry/project_list.html#cards): what each card shows."""
    return digest(
        "cards",
        [
            (
                p.slug,
                p.name,
                p.name_en,
                p.tagline,
                p.logo.name,
                p.status,
                p.status_since,
                p.track.slug,
                p.track.name,
                p.provenance,
            )
            for p in projects
        ],
    )


def tiles_key(panels):
    """The map's panels: each track, its count and its tiles' rows (registry.landscape)."""
    return digest(
        "map", [(panel["track"].slug, panel["track"].name, panel["total"], panel["rows"]) for panel in panels]
    )


def charts_key(charts):
    """The charts of /stats/ (registry.stats.Chart): every row's label, number, link and colour."""
    return digest(
        "charts",
        [
            (
                chart.slug,
                str(chart.title),
                str(chart.heading),
                str(chart.note),
                [(row.label, row.value, row.url, row.color, row.axis_label, row.year) for row in chart.rows],
            )
            for chart in charts
        ],
    )
