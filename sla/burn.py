"""Error-budget burn rates (contract section 6): for each SLA row, bad / total
over a recent span divided by (1 - target / 100). ``sla.burn_rate`` fires when
both the 1 h and the 5 min rates reach 14.4, or both the 6 h and the 30 min
rates reach 6.

Callers: the alerts (``burn_rates(tenant, now)``) and the SLA page."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from sla import compute
from sla.engine import objectives_context, sla_rows

# (name, seconds); the pairs below combine a long and a short span.
SPANS = [("1h", 3600), ("5m", 300), ("6h", 6 * 3600), ("30m", 1800)]
FAST = ("1h", "5m", 14.4)
SLOW = ("6h", "30m", 6.0)


@dataclass
class Burn:
    objective: str
    integration: str | None
    priority: str | None
    target: float
    rates: dict = field(default_factory=dict)  # span name -> rate or None

    @property
    def key(self):
        return (self.objective, self.integration, self.priority)

    def _over(self, pair):
        long, short, limit = pair
        a, b = self.rates.get(long), self.rates.get(short)
        return a is not None and b is not None and a >= limit and b >= limit

    @property
    def fast(self):
        return self._over(FAST)

    @property
    def slow(self):
        return self._over(SLOW)

    @property
    def firing(self):
        """The alert condition of section 6."""
        return self.fast or self.slow


def burn_rates(tenant, now=None):
    """One Burn per SLA row of ``tenant``, rates over the spans ending at ``now``
    (computed from the raw runs of those spans)."""
    now = now or timezone.now()
    burns = {}
    context = objectives_context(tenant)
    for name, seconds in SPANS:
        for row in sla_rows(tenant, now - timedelta(seconds=seconds), now, now=now, raw=True, context=context):
            key = (row["objective"], row["integration"], row["priority"])
            burn = burns.setdefault(key, Burn(*key, target=row["target"]))
            burn.rates[name] = compute.burn_rate(row["good"], row["total"], row["target"])
    return list(burns.values())
