"""Customer portal pages."""

from django.urls import path

from portal import views

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("t/<slug:tenant>/portal/", views.portal_tenant, name="portal-tenant"),
]
