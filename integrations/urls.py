"""Integration pages (HTML)."""

from django.urls import include, path

from integrations import views
from integrations.views import connect, exceptions, exports, home, inbox, runs

urlpatterns = [
    path("", home.home, name="home"),
    path("t/<slug:tenant>/", views.tenant_overview, name="integrations-tenant"),
    path("t/<slug:tenant>/connect/", connect.connect_worker, name="integrations-connect"),
    path("t/<slug:tenant>/i/<slug:integration>/", runs.integration_page, name="integrations-integration"),
    path("t/<slug:tenant>/i/<slug:integration>/runs.csv", exports.runs_csv, name="integrations-runs-csv"),
    path("runs/<int:pk>/", runs.run_page, name="integrations-run"),
    path("inbox/", inbox.inbox, name="integrations-inbox"),
    path("inbox/export.csv", exports.inbox_csv, name="integrations-inbox-csv"),
    path("inbox/bulk/", inbox.inbox_bulk, name="integrations-inbox-bulk"),
    path("exceptions/<int:pk>/", exceptions.exception_page, name="integrations-exception"),
]
urlpatterns += [
    path(f"exceptions/<int:pk>/{name}/", view, name=f"integrations-exception-{name}")
    for name, view in exceptions.action_views.items()
]
urlpatterns += [path("", include("integrations.replay_urls"))]
