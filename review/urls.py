from django.urls import path

from review import public_views, views

app_name = "review"

urlpatterns = [
    path("my/", views.dashboard, name="dashboard"),
    path("my/submissions/new/", views.submission_new, name="submission-new"),
    path("my/submissions/<int:pk>/", views.submission_detail, name="submission-detail"),
    path("my/submissions/<int:pk>/edit/", views.submission_edit, name="submission-edit"),
    path("my/submissions/<int:pk>/submit/", views.submission_submit, name="submission-submit"),
    path("my/submissions/<int:pk>/withdraw/", views.submission_withdraw, name="submission-withdraw"),
    path("projects/<slug:slug>/edit/", views.project_edit, name="project-edit"),
    path("projects/<slug:slug>/claim/", views.project_claim, name="project-claim"),
    path("projects/<slug:slug>/report/", public_views.report_problem, name="project-report"),
    path("confirm/<str:token>/", public_views.confirm, name="confirm"),
]
