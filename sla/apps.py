from django.apps import AppConfig


class SlaConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sla"

    def ready(self):
        # Keep the per-day rollups current inside the ingest transaction
        # (sla.rollups). The ingest service may not be installed yet.
        try:
            from integrations.ingest import service
        except ImportError:
            return
        from sla.rollups import runs_changed

        listeners = getattr(service, "RUN_LISTENERS", None)
        if listeners is not None and runs_changed not in listeners:
            listeners.append(runs_changed)
