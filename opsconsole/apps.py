from django.apps import AppConfig


class OpsconsoleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "opsconsole"
    verbose_name = "Tenancy"

    def ready(self):
        from opsconsole import schema  # noqa: F401  (registers OpenAPI auth extensions)
