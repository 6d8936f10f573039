"""django-q2 tasks of the alerts. Each takes ids or primitives, never model
instances, so a task survives a worker restart; each is safe to run twice
(episodes and deliveries are unique in the database)."""

from django_q.tasks import async_task

from alerts import budgets, heartbeats, sending, triggers
from opsconsole.models import Tenant

# The minute schedule (opsconsole.schedules).
EVALUATE_SCHEDULE = "alerts-evaluate"


def evaluate():
    """Every minute: heartbeats, cleared episodes, due retries, and one
    budget evaluation task per tenant (they read the SLA engine)."""
    flipped = heartbeats.evaluate()
    settled = triggers.settle()
    sent = deliver_due()
    tenants = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenants:
        async_task("alerts.tasks.evaluate_budgets", tenant_id)
    return {"flipped": flipped, "settled": settled, "sent": sent, "tenants": len(tenants)}


def evaluate_budgets(tenant_id):
    return budgets.evaluate_tenant(tenant_id)


def exception_alerts(exception_ids):
    """``exception.opened`` or ``exception.regressed`` for the latest opening of each."""
    alerts = [triggers.exception_alert(pk) for pk in exception_ids]
    return [a.pk for a in alerts if a is not None]


def replay_alert(event, replay_id):
    alert = triggers.replay_alert(event, replay_id)
    return None if alert is None else alert.pk


def deliver(delivery_pk):
    """Try one delivery if it is due (the sweep retries it later otherwise)."""
    attempt = sending.send(delivery_pk)
    return None if attempt is None else {"attempt": attempt.attempt, "ok": attempt.succeeded}


def deliver_due():
    """Try every delivery whose next try has come; returns how many were tried."""
    return sum(sending.send(pk) is not None for pk in sending.due_ids())
