from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from opsconsole import navigation, ops, views
from opsconsole.schema import BrandedRedocView, BrandedSchemaView, BrandedSwaggerView

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="opsconsole/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", views.PasswordChange.as_view(), name="password-change"),
    path("switch/", navigation.switch_tenant, name="switch-tenant"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("api/schema/", BrandedSchemaView.as_view(), name="api-schema"),
    path("api/docs/", BrandedSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", BrandedRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/", include("integrations.api.urls")),
    path("api/v1/", include("sla.api_urls")),
    path("api/v1/", include("sla.reports.api_urls")),
    path("api/v1/", include("opsconsole.api_urls")),
    path("api/v1/", include("governance.api_urls")),
    path("api/v1/", include("alerts.api_urls")),
    path("", include("integrations.urls")),
    path("", include("sla.urls")),
    path("", include("sla.reports.urls")),
    path("", include("portal.urls")),
    path("", include("alerts.urls")),
    path("governance/", include("governance.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "opsconsole.errors.handler400"
handler403 = "opsconsole.errors.handler403"
handler404 = "opsconsole.errors.handler404"
handler500 = "opsconsole.errors.handler500"
