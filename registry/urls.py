from django.contrib.sitemaps.views import sitemap
from django.urls import path

from registry import api, views
from registry.feeds import NewProjectsFeed
from registry.sitemaps import SITEMAPS

app_name = "registry"

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/", views.project_list, name="project-list"),
    path("projects/<slug:slug>/", views.project_detail, name="project-detail"),
    path("tracks/<slug:slug>/", views.track_detail, name="track-detail"),
    path("map/", views.landscape, name="map"),
    path("about/review/", views.about_review, name="about-review"),
    path("feed/", NewProjectsFeed(), name="feed"),
    path("data/projects.csv", api.projects_csv, name="data-csv"),
    path("data/projects.json", api.projects_json, name="data-json"),
    path("api/projects/", api.api_projects, name="api-projects"),
    path("api/projects/<slug:slug>/", api.api_project, name="api-project"),
    path("api/tracks/", api.api_tracks, name="api-tracks"),
    path("api/stats/survival/", api.api_survival, name="api-survival"),  # the figures of /stats/#survival
    path("data/survival.csv", api.survival_csv, name="data-survival-csv"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots"),
]
