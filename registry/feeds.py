"""The Atom feed of newly published projects (the list's filters apply: /feed/?reviewed=1)."""

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from registry.absolute import absolute
from registry.filters import ProjectFilterSet
from registry.models import Project

FEED_SIZE = 50


class NewProjectsFeed(Feed):
    feed_type = Atom1Feed
    title = _("AI Innovation Map: newly published projects")
    subtitle = _("AI projects reviewed by an independent industry association.")
    # Every link from SITE_URL (registry.absolute): Django's own would take the request's host.

    def get_object(self, request, *args, **kwargs):
        """The list's filters, from the feed's query string (values not understood are ignored)."""
        filterset = ProjectFilterSet(
            request.GET, queryset=Project.objects.published().select_related("track")
        )
        filterset.feed_path = request.get_full_path()
        return filterset

    def link(self, filterset):
        return absolute(str(reverse_lazy("registry:project-list")))

    def feed_url(self, filterset):
        return absolute(filterset.feed_path)

    def item_link(self, project):
        return absolute(project.get_absolute_url())

    def items(self, filterset):
        return filterset.qs.order_by("-first_published_at", "-pk")[:FEED_SIZE]

    def item_title(self, project):
        return project.display_name

    def item_description(self, project):
        # Atom's <summary type="html"> is read as HTML once the XML is parsed: plain text
        # must be escaped for HTML first, or a feed reader would run markup in a tagline.
        return escape(project.tagline)

    def item_pubdate(self, project):
        return project.first_published_at or project.published_at

    def item_updateddate(self, project):
        return project.updated_at

    def item_categories(self, project):
        return [project.track.name]
