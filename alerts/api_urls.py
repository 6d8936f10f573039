"""Staff API of the alerts (contract 4.7)."""

from django.urls import path

from alerts import api

urlpatterns = [
    path("alerts", api.AlertListView.as_view(), name="alerts-api-list"),
]
