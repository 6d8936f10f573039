"""Governance pages (partner admins and managers)."""

from django.urls import path

from governance import views

urlpatterns = [
    path("", views.portfolio_page, name="governance-portfolio"),
    path("aging/", views.aging_page, name="governance-aging"),
    path("responses/", views.responses_page, name="governance-responses"),
    path("health/", views.health_page, name="governance-health"),
    path("approvals/", views.approvals_page, name="governance-approvals"),
    path("keys/", views.keys_page, name="governance-keys"),
    path("changes/", views.changes_page, name="governance-changes"),
    path("records/", views.records_page, name="governance-records"),
    path("audit/", views.audit_page, name="governance-audit"),
]
