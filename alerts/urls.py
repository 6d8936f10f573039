"""Alert pages (HTML)."""

from django.urls import path

from alerts import views

urlpatterns = [
    path("alerts/", views.partner_alerts, name="alerts-partner"),
    path("alerts/<int:pk>/", views.alert_page, name="alerts-detail"),
    path("alerts/channels/<int:pk>/test/", views.send_test, name="alerts-channel-test"),
    path("t/<slug:tenant>/alerts/", views.tenant_alerts, name="alerts-tenant"),
    path(
        "t/<slug:tenant>/i/<slug:integration>/alerts/pause/",
        views.pause_integration,
        name="alerts-integration-pause",
    ),
]
