"""Staff API of the tenancy app (the audit log, contract 4.2)."""

from django.urls import path

from opsconsole import api

urlpatterns = [
    path("audit", api.AuditLogView.as_view(), name="opsconsole-audit"),
]
