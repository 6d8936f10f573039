"""Report pages (contract 5). URL names are used by other pages (the portal)."""

from django.urls import path, re_path

from sla.reports import views

# The month is matched loosely and checked by the view, so that a malformed
# one gets a 400 naming the problem rather than a bare 404.
PERIOD = r"(?P<period>[^/]{1,32}?)"
TENANT = r"(?P<tenant>[-a-zA-Z0-9_]{1,63})"

urlpatterns = [
    path("reports/<slug:tenant>/", views.archive, name="reports-archive"),
    re_path(rf"^reports/{TENANT}/{PERIOD}\.pdf$", views.report_pdf, name="reports-pdf"),
    re_path(rf"^reports/{TENANT}/{PERIOD}\.csv$", views.report_csv, name="reports-csv"),
    re_path(rf"^reports/{TENANT}/{PERIOD}/$", views.report_html, name="reports-html"),
]
