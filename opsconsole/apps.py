from django.apps import AppConfig


class OpsconsoleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "opsconsole"
    verbose_name = "Tenancy"
