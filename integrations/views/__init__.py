"""Integration pages (HTML): tenant overview, inbox, exception, integration
and run pages."""

from integrations.views.tenants import tenant_overview

__all__ = ["tenant_overview"]
