"""Replay pages (included by integrations.urls)."""

from django.urls import path

from integrations import replay_views

urlpatterns = [
    path("approvals/", replay_views.approvals, name="integrations-approvals"),
    path("replays/<uuid:pk>/", replay_views.replay_detail, name="integrations-replay"),
    path(
        "replays/<uuid:pk>/approve/",
        replay_views.replay_action,
        {"action": "approve"},
        name="integrations-replay-approve",
    ),
    path(
        "replays/<uuid:pk>/reject/", replay_views.replay_action, {"action": "reject"}, name="integrations-replay-reject"
    ),
    path(
        "replays/<uuid:pk>/cancel/", replay_views.replay_action, {"action": "cancel"}, name="integrations-replay-cancel"
    ),
    path("t/<slug:tenant>/replays/", replay_views.tenant_replays, name="integrations-tenant-replays"),
    path("exceptions/<int:pk>/replay/", replay_views.exception_replay, name="integrations-exception-replay"),
]
