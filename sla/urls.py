"""SLA pages and reports."""

urlpatterns = []
