from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from registry.models import Project, Track


class ProjectSitemap(Sitemap):
    changefreq = "weekly"
    limit = 10000

    def items(self):
        return Project.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, project):
        return project.updated_at


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["registry:home", "registry:project-list"]

    def location(self, name):
        return reverse(name)


class TrackSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return Track.objects.all()


SITEMAPS = {"pages": PageSitemap, "tracks": TrackSitemap, "projects": ProjectSitemap}
