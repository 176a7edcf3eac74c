from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from registry.absolute import site_domain, site_scheme
from registry.models import Project, Track


class SiteSitemap(Sitemap):
    """Locations on SITE_URL (registry.absolute), never on the request's host."""

    def get_domain(self, site=None):
        return site_domain()

    def get_protocol(self, protocol=None):
        return site_scheme()


class ProjectSitemap(SiteSitemap):
    changefreq = "weekly"
    limit = 10000

    def items(self):
        return Project.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, project):
        return project.updated_at


class PageSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        return ["registry:home", "registry:project-list"]

    def location(self, name):
        return reverse(name)


class TrackSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        return Track.objects.all()


SITEMAPS = {"pages": PageSitemap, "tracks": TrackSitemap, "projects": ProjectSitemap}
