"""Worker API (contract section 3) and staff API (section 4) of integrations."""

from django.urls import path

from integrations.api import runs

urlpatterns = [
    path("runs", runs.RunCreateView.as_view(), name="api-runs"),
    path("runs/batch", runs.RunBatchView.as_view(), name="api-runs-batch"),
]
