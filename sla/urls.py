"""SLA pages and reports."""

from django.urls import path

from sla import views

urlpatterns = [
    path("t/<slug:tenant>/sla/", views.sla_page, name="sla-page"),
    path("t/<slug:tenant>/trends/", views.trends_page, name="sla-trends"),
]
