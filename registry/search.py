"""Search for Chinese and English substrings, answered from an index on PostgreSQL.

Each project keeps `search_tokens` (registry.models.Project): the searched fields cut
into tokens. CJK runs give their single characters and their two-character pairs;
other words (Latin letters, digits) give every suffix, so that a prefix query on the
tokens finds any substring of a word. On PostgreSQL a GIN index over those tokens
(migration registry/0004) narrows the candidates; every term is then confirmed by a
plain substring match (`icontains`), so the index never changes *what* is found, only
how fast. SQLite has no such index and simply scans. docs/decisions/0008-search.md.

Two shortcuts on PostgreSQL, where the confirmation is most of a search's cost:

- A term whose token query is exact needs no confirmation: a run of one or two CJK
  characters (its character or its pair is a token exactly when a field contains it), or
  one ASCII word of letters and digits no longer than a token (a prefix of a stored
  suffix exactly when a word contains it, at any of the 24 positions the index keeps).
  The one difference: tokens are case-folded by Python, so a field holding one of the
  few characters whose case folding is ASCII (ß → ss, ﬁ → fi, the Kelvin sign → k) is
  found by its folded spelling ("strasse" finds "Straße"), which UPPER() LIKE misses.
- A term of CJK characters only is confirmed with a case-sensitive LIKE: those scripts
  have no case, so it finds the same rows as `icontains` without upper-casing every
  description.
"""

import functools
import re

from django.db import connection
from django.db.models import BooleanField, F, Func, Q

SEARCH_FIELDS = ("name", "name_en", "tagline", "description", "organization")
INDEX_NAME = "registry_project_search_gin"
CREATE_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON registry_project "
    "USING gin (array_to_tsvector(string_to_array(search_tokens, ' ')))"
)
DROP_INDEX_SQL = f"DROP INDEX IF EXISTS {INDEX_NAME}"
MAX_QUERY_LENGTH = 100
MAX_SUFFIXES = 24  # a word longer than this contributes its first 24 suffixes
MAX_TOKEN = 32  # and each is cut to 32 characters (PostgreSQL refuses lexemes over 2 KB)

# Han ideographs (with extensions A and the compatibility block), kana and hangul:
# scripts written without spaces between words.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
PIECES = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+")
IS_CJK = re.compile(rf"[{CJK}]")
ALL_CJK = re.compile(rf"[{CJK}]+")


def _pieces(text):
    return PIECES.findall((text or "").casefold())


@functools.lru_cache(maxsize=200_000)
def _piece_tokens(piece):
    """The tokens of one run of CJK characters or one word (words repeat: cached)."""
    if IS_CJK.match(piece):
        return frozenset(piece) | frozenset(piece[i : i + 2] for i in range(len(piece) - 1))
    return frozenset(piece[i : i + MAX_TOKEN] for i in range(min(len(piece), MAX_SUFFIXES)))


def tokens(text):
    """The index tokens of `text`, as a set."""
    found = set()
    for piece in set(_pieces(text)):  # each repeated word once
        found |= _piece_tokens(piece)
    return found


def document(project):
    """The space-separated tokens stored for a project (or a submission)."""
    text = " ".join([str(getattr(project, name) or "") for name in SEARCH_FIELDS])
    return " ".join(sorted(tokens(text)))


def query_terms(text):
    """The whitespace-separated terms of a query, at most MAX_QUERY_LENGTH characters in all."""
    return (text or "")[:MAX_QUERY_LENGTH].split()


def _tsquery(term):
    """A tsquery that every document containing `term` matches, or None if the term has
    nothing indexable (only punctuation or symbols: then only the scan answers it)."""
    parts = []
    for piece in _pieces(term):
        if IS_CJK.match(piece):
            grams = [piece] if len(piece) == 1 else [piece[i : i + 2] for i in range(len(piece) - 1)]
            parts += [f"'{gram}'" for gram in dict.fromkeys(grams)]
        else:
            parts.append("'{}':*".format(piece[:MAX_TOKEN].replace("'", "''")))
    return " & ".join(parts) or None


class TokensMatch(Func):
    """A row's search tokens match `tsquery`, written as the GIN index (INDEX_NAME) indexes
    them so that the index answers it; the column is the row's own wherever the query stands
    (a subquery renames the table)."""

    output_field = BooleanField()

    def __init__(self, tsquery):
        super().__init__(F("search_tokens"))
        self.tsquery = tsquery

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"array_to_tsvector(string_to_array({column}, ' ')) @@ %s::tsquery", (*params, self.tsquery)


def exact(term):
    """Whether the token query of `term` finds exactly the rows whose fields contain it
    (module notes): then PostgreSQL needs no substring confirmation."""
    if ALL_CJK.fullmatch(term):
        return len(term) <= 2
    return term.isascii() and term.isalnum() and len(term) <= MAX_TOKEN


def substring_lookup(term):
    """The lookup that confirms `term` in a field: `icontains`, or on PostgreSQL the cheaper
    case-sensitive `contains` for a term of CJK characters only (they have no case)."""
    if connection.vendor == "postgresql" and ALL_CJK.fullmatch(term):
        return "contains"
    return "icontains"


def matching(queryset, text):
    """`queryset` narrowed to rows containing every term of `text` in a searched field."""
    for term in query_terms(text):
        tsquery = _tsquery(term) if connection.vendor == "postgresql" else None
        if tsquery:
            queryset = queryset.filter(TokensMatch(tsquery))
            if exact(term):
                continue
        lookup = substring_lookup(term)
        substring = Q()
        for field in SEARCH_FIELDS:
            substring |= Q(**{f"{field}__{lookup}": term})
        queryset = queryset.filter(substring)
    return queryset
