"""Governance API (contract 4.6, and the CSV of 4.2)."""

from django.urls import path

from governance import api

urlpatterns = [
    path("portfolio", api.PortfolioView.as_view(), name="governance-portfolio-api"),
    path("audit.csv", api.AuditCsvView.as_view(), name="governance-audit-csv"),
]
