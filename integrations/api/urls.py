"""Worker API (contract section 3) and staff API (section 4) of integrations."""

from django.urls import path

from integrations.api import exceptions, replays, runs, staff

urlpatterns = [
    # GET: staff list (4.2); POST: the worker's report (3.1).
    path("runs", staff.RunsView.as_view(), name="api-runs"),
    path("runs/batch", runs.RunBatchView.as_view(), name="api-runs-batch"),
    path("runs/<str:pk>", staff.RunDetailView.as_view(), name="api-run"),
    path("integrations", staff.IntegrationListView.as_view(), name="api-integrations"),
    path("exceptions", exceptions.ExceptionListView.as_view(), name="api-exceptions"),
    path("exceptions/<str:pk>", exceptions.ExceptionDetailView.as_view(), name="api-exception"),
    path("exceptions/<str:pk>/occurrences", exceptions.OccurrenceListView.as_view(), name="api-exception-occurrences"),
    path("exceptions/<str:pk>/acknowledge", exceptions.AcknowledgeView.as_view(), name="api-exception-acknowledge"),
    path("exceptions/<str:pk>/assign", exceptions.AssignView.as_view(), name="api-exception-assign"),
    path("exceptions/<str:pk>/comment", exceptions.CommentView.as_view(), name="api-exception-comment"),
    path("exceptions/<str:pk>/resolve", exceptions.ResolveView.as_view(), name="api-exception-resolve"),
    path("exceptions/<str:pk>/ignore", exceptions.IgnoreView.as_view(), name="api-exception-ignore"),
    path("exceptions/<str:pk>/reopen", exceptions.ReopenView.as_view(), name="api-exception-reopen"),
    path("exceptions/<str:pk>/replay", replays.ExceptionReplayView.as_view(), name="api-exception-replay"),
    path("exceptions/<str:pk>/discard", replays.ExceptionDiscardView.as_view(), name="api-exception-discard"),
    path("replays", replays.ReplayListView.as_view(), name="api-replays"),
    path("replays/claim", replays.ReplayClaimView.as_view(), name="api-replay-claim"),
    path("replays/<uuid:pk>", replays.ReplayDetailView.as_view(), name="api-replay"),
    path("replays/<uuid:pk>/approve", replays.ReplayApproveView.as_view(), name="api-replay-approve"),
    path("replays/<uuid:pk>/reject", replays.ReplayRejectView.as_view(), name="api-replay-reject"),
    path("replays/<uuid:pk>/cancel", replays.ReplayCancelView.as_view(), name="api-replay-cancel"),
    path("replays/<uuid:pk>/result", replays.ReplayResultView.as_view(), name="api-replay-result"),
]
