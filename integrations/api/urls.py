"""Worker API (contract section 3) and staff API (section 4) of integrations."""

from django.urls import path

from integrations.api import replays, runs

urlpatterns = [
    path("runs", runs.RunCreateView.as_view(), name="api-runs"),
    path("runs/batch", runs.RunBatchView.as_view(), name="api-runs-batch"),
    path("exceptions/<int:pk>/replay", replays.ExceptionReplayView.as_view(), name="api-exception-replay"),
    path("exceptions/<int:pk>/discard", replays.ExceptionDiscardView.as_view(), name="api-exception-discard"),
    path("replays", replays.ReplayListView.as_view(), name="api-replays"),
    path("replays/claim", replays.ReplayClaimView.as_view(), name="api-replay-claim"),
    path("replays/<uuid:pk>", replays.ReplayDetailView.as_view(), name="api-replay"),
    path("replays/<uuid:pk>/approve", replays.ReplayApproveView.as_view(), name="api-replay-approve"),
    path("replays/<uuid:pk>/reject", replays.ReplayRejectView.as_view(), name="api-replay-reject"),
    path("replays/<uuid:pk>/cancel", replays.ReplayCancelView.as_view(), name="api-replay-cancel"),
    path("replays/<uuid:pk>/result", replays.ReplayResultView.as_view(), name="api-replay-result"),
]
