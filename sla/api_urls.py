"""SLA API (contract 4.4, 4.5)."""

from django.urls import path

from sla import api

urlpatterns = [
    path("sla", api.SlaView.as_view(), name="sla-api"),
    path("trends", api.TrendsView.as_view(), name="sla-trends-api"),
]
