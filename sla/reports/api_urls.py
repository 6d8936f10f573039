"""Report archive API (contract 5, 1.1)."""

from django.urls import path

from sla.reports import api

urlpatterns = [
    path("reports", api.ReportListView.as_view(), name="reports-api"),
    path("reports/<slug:tenant>/<str:period>/reissue", api.ReissueView.as_view(), name="reports-reissue-api"),
]
