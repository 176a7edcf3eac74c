"""Likely duplicates of a submission: listings with the same website or a very similar name.

Websites are compared on host *and* path, with the scheme, "www.", a trailing slash
and letter case ignored: many projects live at github.com/<team>/<repo> or
huggingface.co/<org>, so sharing a host alone says nothing. Names match when they are
equal ignoring case, or when one contains the other (both at least 3 characters long,
so "AI" does not match everything).
"""

from urllib.parse import urlsplit

from django.db.models import F, Q, Value
from django.db.models.functions import Length

from registry.models import Project
from review.models import Submission

MIN_NAME_LENGTH = 3


def normalised_website(url):
    """ "https://www.Example.com/Team/" -> "example.com/team"; "" for no or unusable URLs."""
    url = (url or "").strip().lower()
    if not url:
        return ""
    parts = urlsplit(url if "://" in url else f"//{url}")
    host = parts.netloc.rsplit("@", 1)[-1].removeprefix("www.")
    if not host:
        return ""
    return f"{host}{parts.path}".rstrip("/")


def _same_website(queryset, website):
    """Rows whose website normalises to `website` (already normalised, not empty)."""
    # The normalised form is a substring of every URL that normalises to it: let the
    # database narrow the candidates, then compare exactly.
    candidates = queryset.filter(website__icontains=website).only("pk", "website")
    return [row.pk for row in candidates if normalised_website(row.website) == website]


def _matches(queryset, submission):
    """The rows of `queryset` with the same website as `submission` or a similar name."""
    query = Q()
    website = normalised_website(submission.website)
    if website:
        query |= Q(pk__in=_same_website(queryset, website))
    queryset = queryset.annotate(name_len=Length("name"), name_en_len=Length("name_en"))
    names = {name.strip() for name in (submission.name, submission.name_en) if name and name.strip()}
    for number, name in enumerate(sorted(names)):
        query |= Q(name__iexact=name) | Q(name_en__iexact=name)
        if len(name) >= MIN_NAME_LENGTH:
            query |= Q(name__icontains=name) | Q(name_en__icontains=name)
            # ... or the other way round: this name contains theirs.
            subject = f"subject_{number}"
            queryset = queryset.annotate(**{subject: Value(name)})
            query |= Q(name_len__gte=MIN_NAME_LENGTH, **{f"{subject}__icontains": F("name")})
            query |= Q(name_en_len__gte=MIN_NAME_LENGTH, **{f"{subject}__icontains": F("name_en")})
    return queryset.filter(query) if query else queryset.none()


def likely_duplicates(submission):
    """(projects, submissions): other listings that may be the same project as `submission`."""
    projects = Project.objects.all()
    if submission.project_id:  # the listing an update or a claim is about
        projects = projects.exclude(pk=submission.project_id)
    submissions = Submission.objects.open().exclude(pk=submission.pk)
    return (
        _matches(projects, submission).select_related("track").order_by("name"),
        _matches(submissions, submission).select_related("track", "owner").order_by("name"),
    )
