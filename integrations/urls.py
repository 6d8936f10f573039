"""Integration pages (HTML)."""

from django.urls import include, path

from integrations import views

urlpatterns = [
    path("t/<slug:tenant>/", views.tenant_overview, name="integrations-tenant"),
    path("", include("integrations.replay_urls")),
]
