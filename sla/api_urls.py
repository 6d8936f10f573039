"""SLA API (contract 4.4, 4.5)."""

urlpatterns = []
