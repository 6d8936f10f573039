"""Staff API of the tenancy app (the audit log, contract 4.2)."""

urlpatterns = []
