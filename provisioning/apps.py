from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    """Configuration as code (``apply_config``) and the demo seeder
    (``seed_demo``): they write through every other app, so they stand above
    them all and nothing imports them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "provisioning"
