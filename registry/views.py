"""Public pages. Each reads only `Project.objects.published()`."""

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from registry.models import Project, Track


def public_projects():
    return Project.objects.published().select_related("track")


@require_safe
def home(request):
    projects = public_projects()
    context = {
        "project_count": projects.count(),
        "track_count": Track.objects.count(),
        "newest": projects.newest_first()[:8],
        "featured": projects.filter(featured=True).newest_first()[:4],
    }
    return render(request, "registry/home.html", context)


@require_safe
def project_list(request):
    paginator = Paginator(public_projects().newest_first(), settings.PROJECTS_PER_PAGE)
    # get_page: a malformed number is page 1, one past the end is the last page.
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "paginator": paginator,
        "page_range": paginator.get_elided_page_range(page.number),
    }
    return render(request, "registry/project_list.html", context)


@require_safe
def project_detail(request, slug):
    project = get_object_or_404(public_projects(), slug=slug)
    context = {
        "project": project,
        "secondary_tracks": project.secondary_tracks.all(),
        "similar": public_projects().filter(track=project.track_id).exclude(pk=project.pk).newest_first()[:4],
    }
    return render(request, "registry/project_detail.html", context)
