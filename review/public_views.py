"""The review app's pages for anyone, logged in or not (review.views holds the founders'):
the founder's yearly confirmation, reached through its signed link (the link is the
credential), and a visitor's report of a problem with a listing. Both change things only
through review.lifecycle."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from registry.clientip import client_ip
from registry.models import Project
from review import lifecycle
from review.forms import ProblemReportForm
from review.workflow import TransitionError


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """The founder's yearly confirmation. The emailed link opens this page (mail scanners
    that open links confirm nothing); its one button confirms "still operating, details
    correct", which changes nothing but the date the listing was last verified."""
    try:
        project = lifecycle.project_of(token)
        if request.method == "POST":
            project = lifecycle.confirm(token)
            return render(request, "review/confirm.html", {"project": project, "done": True})
    except lifecycle.LinkRefused as refused:
        status = 400 if refused.reason == "invalid" else 410
        return render(request, "review/confirm.html", {"refused": refused.message}, status=status)
    return render(request, "review/confirm.html", {"project": project})


@require_http_methods(["GET", "HEAD", "POST"])
def report_problem(request, slug):
    """A visitor reports that a listing has closed, is wrong or has a broken link."""
    project = get_object_or_404(Project.objects.published(), slug=slug)
    form = ProblemReportForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["homepage"]:  # a bot: thanked, nothing stored
            return render(request, "review/report_problem.html", {"project": project, "done": True})
        try:
            lifecycle.report_problem(
                project,
                kind=form.cleaned_data["kind"],
                message=form.cleaned_data["message"],
                email=form.cleaned_data["email"],
                reporter=lifecycle.reporter_key(client_ip(request)),
            )
        except TransitionError as error:
            form.add_error(None, error.message)
            status = 429 if isinstance(error, lifecycle.TooManyReports) else 200
        else:
            return render(request, "review/report_problem.html", {"project": project, "done": True})
    return render(request, "review/report_problem.html", {"project": project, "form": form}, status=status)
