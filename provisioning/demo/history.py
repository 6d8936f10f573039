"""Weeks of run documents (contract 3.1) as the demo's sync workers would
have sent them. Pure Python: deterministic for a given ``now``.

Each flow runs on its schedule; runs are skipped inside maintenance windows
and outages (heartbeat gaps). Failures come from a per-flow mix: persistent
ones (closed projects, missing mappings, duplicates, unknown references) are
reported once and wait for a fix or a replay, and now and then recover when
the source record changes; transient ones (rate limits, timeouts) are
retried by the next run, which reports them ``recovered``. An expired
credential fails every run of one flow for a few hours.

A believable month (what every page then has to show): failures are rare
enough that most objectives are met; Contoso's time posting is late past
its freshness threshold on a fixed share of runs, enough to put that
objective at risk; Fabrikam's revenue recognition fails every run through
two vendor incidents (503s from the ERP, in the run logs) and misses its
run-success objective; a few failures of kinds never seen before arrive in
the last hours (``fresh``), so the inbox has new exceptions nobody has
acknowledged yet. Failures of financial records carry the money they hold
up (``money``), in the tenant's currency.
"""

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class FailureKind:
    entity: str
    error_class: str
    error_code: str | None
    message: str  # str.format with n (a number), rid (the record id), ref (another id)
    rate: float  # chance that a run carries this failure
    burst: tuple = (1, 1)
    transient: bool = False
    prefix: str = "R"


@dataclass(frozen=True)
class Fresh:
    """A failure of a kind never seen before, ``hours`` before now: it opens
    a new exception that nobody has looked at yet."""

    hours: float
    kind: FailureKind
    record_id: str
    amount: float | None = None


@dataclass
class Flow:
    tenant: str
    slug: str
    timezone: str
    every: int  # minutes
    worker: dict
    volume: tuple  # records per run in business hours (quieter outside)
    kinds: list
    outages: list = field(default_factory=list)  # (hours before now it starts, hours it lasts)
    auth_outage: tuple | None = None  # (hours before now, hours): an expired credential
    run_fail_rate: float = 0.003  # a whole run fails (connection refused)
    slow_every: int = 50  # every N-th run's lag is over the freshness threshold
    running_last: bool = False
    currency: str = "USD"
    # entity -> (low, high) of the money a failing record carries; time
    # entries carry hours x ``rate``.
    money: dict = field(default_factory=dict)
    rate: float = 0.0
    incidents: list = field(default_factory=list)  # (hours before now, hours, log message): every run fails
    fresh: list = field(default_factory=list)  # [Fresh]


K = FailureKind
EXPIRED = "OAuth token expired for service account svc-sync@{ref}.example"
AUTH = K("time_entry", "auth", "AUTH-401", EXPIRED, 1.0, transient=True)
# A persistent failure's record is fixed at the source and synced again: about
# one in twelve a day.
PERSISTENT_RECOVERY_PER_DAY = 0.08


def _worker(name, version, host):
    return {"name": name, "version": version, "host": host}


def flows():
    """The demo's flows, one per configured integration."""
    chicago, berlin, singapore = "America/Chicago", "Europe/Berlin", "Asia/Singapore"
    return [
        Flow(
            "contoso",
            "opportunity-to-project",
            chicago,
            30,
            _worker("opp-to-project", "2.8.0", "w-03"),
            (4, 25),
            [
                K("opportunity", "validation", None, "Opportunity {rid} has no close date", 0.006, prefix="OPP"),
                K("project", "reference", "KAN-404", "Account 'ACC-{n}' not found in Kantata", 0.005, prefix="PRJ"),
                K(
                    "opportunity",
                    "rate_limit",
                    "SF-429",
                    "Salesforce API rate limit exceeded (REQUEST_LIMIT_EXCEEDED)",
                    0.004,
                    (2, 6),
                    True,
                    "OPP",
                ),
            ],
            slow_every=60,
        ),
        Flow(
            "contoso",
            "time-expense-posting",
            chicago,
            15,
            _worker("te-poster", "3.4.1", "w-07"),
            (40, 160),
            [
                K(
                    "time_entry",
                    "validation",
                    "ERP-4001",
                    "Project P-{n} is closed in the ERP",
                    0.005,
                    (1, 3),
                    prefix="TE",
                ),
                K("expense", "mapping", None, "No mapping for expense category '{ref}'", 0.002, prefix="EX"),
                K(
                    "time_entry",
                    "timeout",
                    "NS-TIMEOUT",
                    "Read timed out after 30 seconds calling SuiteTalk",
                    0.002,
                    (2, 5),
                    True,
                    "TE",
                ),
                K(
                    "time_entry",
                    "rate_limit",
                    "NS-429",
                    "NetSuite concurrency limit exceeded (429 Too Many Requests)",
                    0.002,
                    (3, 8),
                    True,
                    "TE",
                ),
            ],
            running_last=True,
            # Its own freshness objective is 99 % within an hour: one run in
            # 125 over the threshold spends most of that budget (at risk).
            slow_every=125,
            money={"time_entry": (0, 0), "expense": (35, 2400)},
            rate=185.0,
            fresh=[
                Fresh(
                    2.5,
                    K("time_entry", "duplicate", "ERP-DUP", "Time entry {rid} was already posted in the ERP", 0),
                    "TE-88412",
                    1480.0,
                ),
            ],
        ),
        Flow(
            "contoso",
            "billing-milestone-sync",
            chicago,
            60,
            _worker("milestone-biller", "1.12.3", "w-07"),
            (2, 30),
            [
                K("invoice", "duplicate", "DUP-409", "Duplicate invoice number INV-2026-{n} already exists", 0.008),
                K("invoice", "reference", "NS-CUST-404", "Customer C-{n} not found in NetSuite", 0.008, prefix="MS"),
            ],
            outages=[(12 * 24 + 5, 2.5)],
            money={"invoice": (2_500, 19_000)},
            fresh=[
                Fresh(
                    3,
                    K(
                        "invoice",
                        "validation",
                        "NS-CREDIT-LIMIT",
                        "Invoice {rid} exceeds the credit limit of customer C-{n} in NetSuite",
                        0,
                        prefix="INV",
                    ),
                    "INV-2026-4471",
                    48_500.0,
                ),
                Fresh(
                    5,
                    K("milestone", "validation", "KAN-MS-422", "Milestone {rid} has no billing schedule", 0),
                    "MS-2207",
                ),
            ],
        ),
        Flow(
            "fabrikam",
            "utilization-analytics",
            berlin,
            60,
            _worker("util-loader", "5.0.2", "fab-bi-1"),
            (100, 600),
            [
                K("resource", "mapping", None, "Resource R-{n} has no department mapping", 0.008, prefix="RES"),
                K(
                    "time_entry",
                    "timeout",
                    "PBI-TIMEOUT",
                    "Power BI push dataset request timed out",
                    0.006,
                    (5, 20),
                    True,
                ),
            ],
            auth_outage=(9 * 24 + 2, 5),
            currency="EUR",
        ),
        Flow(
            "fabrikam",
            "revenue-recognition",
            berlin,
            240,
            _worker("revrec", "0.9.7", "fab-erp-2"),
            (10, 80),
            [
                K(
                    "revenue_schedule",
                    "validation",
                    "REV-PERIOD-CLOSED",
                    "Revenue schedule RS-{n} is locked: period {ref} is closed",
                    0.012,
                    (1, 4),
                    prefix="RS",
                ),
                K("project", "validation", "BC-422", "Project P-{n} has no contract value", 0.004, prefix="P"),
            ],
            outages=[(20 * 24 + 3, 8)],
            currency="EUR",
            money={"revenue_schedule": (4_000, 150_000)},
            # The ERP vendor's incidents: every run in them fails (the missed objective).
            incidents=[
                (7 * 24 + 6, 48, "Business Central API unavailable: 503 Service Unavailable (vendor incident)"),
                (23 * 24 + 2, 48, "Business Central API unavailable: 503 Service Unavailable (vendor incident)"),
            ],
            fresh=[
                Fresh(
                    4,
                    K("project", "mapping", "BC-DIM-404", "Dimension value '{ref}' missing in Business Central", 0),
                    "P-7731",
                ),
            ],
        ),
        Flow(
            "tailspin",
            "master-data-sync",
            singapore,
            60,
            _worker("hr-master", "4.2.0", "sg-w-1"),
            (5, 60),
            [
                K("employee", "validation", None, "Employee E-{n} has no manager assigned", 0.008, prefix="E"),
                K("cost_center", "reference", "KAN-CC-404", "Cost center CC-{n} does not exist in Kantata", 0.006),
            ],
            # Down now: no heartbeat for the last three hours.
            outages=[(3, 4)],
            currency="SGD",
        ),
        Flow(
            "tailspin",
            "time-expense-posting",
            singapore,
            30,
            _worker("te-poster", "3.4.1", "sg-w-2"),
            (20, 90),
            [
                K("time_entry", "validation", "SI-BL01", "Project P-{n} is closed in Sage Intacct", 0.006, (1, 2)),
                K("expense", "validation", None, "Invalid tax code '{ref}' for Singapore GST", 0.003, prefix="EX"),
                K("time_entry", "rate_limit", "SI-429", "Sage Intacct rate limit reached (429)", 0.003, (2, 6), True),
            ],
            currency="SGD",
            money={"time_entry": (0, 0), "expense": (20, 1800)},
            rate=240.0,
            fresh=[
                Fresh(
                    1.5,
                    K("expense", "validation", "SI-RCPT", "Receipt image missing for expense {rid}", 0),
                    "EX-40917",
                    312.4,
                ),
            ],
        ),
    ]


EXPENSE_CATEGORIES = ("Meals-Client", "Travel-Rail", "Mileage-EU", "Per-Diem-APAC", "Software-Sub")
TAX_CODES = ("SR-9", "ZR-0", "TX-E33", "GST-OLD7")


def _iso(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class FlowHistory:
    """Generates one flow's runs, remembering failed records between calls."""

    def __init__(self, flow, now, windows=()):
        self.flow = flow
        self.now = now
        self.rng = random.Random(f"{flow.tenant}/{flow.slug}")  # noqa: S311 - demo data
        self.tz = ZoneInfo(flow.timezone)
        self.windows = list(windows)  # (start, end) maintenance windows covering this flow
        self.gaps = [(now - timedelta(hours=h), now - timedelta(hours=h) + timedelta(hours=d)) for h, d in flow.outages]
        self.incidents = [
            (now - timedelta(hours=h), now - timedelta(hours=h) + timedelta(hours=d), message)
            for h, d, message in flow.incidents
        ]
        self.fresh = [(now - timedelta(hours=f.hours), f) for f in flow.fresh]
        self.auth = None
        if flow.auth_outage:
            h, d = flow.auth_outage
            self.auth = (now - timedelta(hours=h), now - timedelta(hours=h) + timedelta(hours=d))
        self.transient = {}  # (entity, record_id) -> failing since
        self.persistent = {}
        self.seq = 0
        self.persistent_recovery = 1 - (1 - PERSISTENT_RECOVERY_PER_DAY) ** (flow.every / 1440)

    def _skipped(self, at):
        return any(a <= at < b for a, b in self.windows) or any(a <= at < b for a, b in self.gaps)

    def slots(self, start, end):
        step = timedelta(minutes=self.flow.every)
        epoch = datetime(2020, 1, 6, tzinfo=UTC)
        first = epoch + step * -(-(start - epoch) // step)
        at = first
        while at < end:
            yield at
            at += step

    def documents(self, start, end):
        """The flow's run documents for slots in [start, end)."""
        docs = []
        for slot in self.slots(start, min(end, self.now)):
            if self._skipped(slot):
                continue
            doc = self.run(slot)
            if doc is not None:
                docs.append(doc)
        return docs

    def run(self, slot):
        rng, flow = self.rng, self.flow
        self.seq += 1
        started = slot + timedelta(seconds=rng.randint(2, 50))
        if started >= self.now:
            return None
        local = started.astimezone(self.tz)
        busy = local.weekday() < 5 and 8 <= local.hour < 19
        lo, hi = flow.volume
        processed = rng.randint(lo, hi) if busy else rng.randint(0, max(1, lo))
        duration = timedelta(seconds=rng.randint(15, 45) + processed // 3)
        finished = started + duration
        running = flow.running_last and finished >= self.now
        if finished >= self.now and not running:
            return None
        failures, recovered, logs = [], [], []
        status = "succeeded"
        fetched = f"fetched {processed} records"
        logs.append(self._log(started + timedelta(seconds=1), "info", fetched, {"page_size": 200}))
        incident = next((m for a, b, m in self.incidents if a <= started < b), None)
        if incident is not None:
            status = "failed"
            processed = 0
            logs.append(self._log(finished, "error", incident, {"status": 503, "retry_after": 900}))
        elif self.auth and self.auth[0] <= started < self.auth[1]:
            status = "failed"
            ref = flow.tenant
            for _ in range(min(3, max(1, processed))):
                failures.append(self._failure(AUTH, started, finished, ref=ref))
            processed = len(failures)
            message = "401 Unauthorized from the target: token expired"
            logs.append(self._log(finished, "error", message, {"status": 401}))
        elif rng.random() < flow.run_fail_rate:
            status = "failed"
            processed = 0
            message = "connection refused by the target; the run will be retried"
            logs.append(self._log(finished, "error", message, {"errno": 111}))
        else:
            for kind in flow.kinds:
                if rng.random() < kind.rate:
                    for _ in range(rng.randint(*kind.burst)):
                        failures.append(self._failure(kind, started, finished))
            for at, fresh in self.fresh:
                if slot <= at < slot + timedelta(minutes=flow.every):
                    failures.append(self._fresh_failure(fresh, started, finished))
            recovered = self._recoveries(failures)
        failed = len(failures)
        processed = max(processed, failed)
        skipped = 0 if status == "failed" else rng.choice((0, 0, 0, 1, 2))
        processed += skipped
        succeeded = max(0, processed - failed - skipped)
        if status != "failed" and failed:
            status = "partial" if succeeded else "failed"
        if failed:
            logs.append(self._log(finished, "warning", f"{failed} records failed; see failures", {}))
        if succeeded:
            logs.append(self._log(finished, "info", f"posted {succeeded} records", {}))
        # A fixed share of runs is slow (over any threshold of an hour or less).
        lag = rng.randint(40, 900) if self.seq % flow.slow_every else rng.randint(3700, 5400)
        doc = {
            "integration": flow.slug,
            "run_id": f"{_iso(slot)[:16]}Z#{self.seq:05d}",
            "status": "running" if running else status,
            "started_at": _iso(started),
            "finished_at": None if running else _iso(finished),
            "trigger": "event" if flow.slug == "opportunity-to-project" else "schedule",
            "records": {"processed": processed, "succeeded": succeeded, "failed": failed, "skipped": skipped},
            "worker": flow.worker,
            "logs": logs,
            "failures": failures,
            "recovered": recovered,
        }
        if succeeded:
            doc["lag_seconds"] = lag
        if running:
            doc["records"] = {"processed": 0, "succeeded": 0, "failed": 0, "skipped": 0}
            doc["failures"], doc["recovered"] = [], []
            doc["logs"] = logs[:1]
        return doc

    def _recoveries(self, failing_now):
        """Transient failures of earlier runs are retried and succeed unless
        this run failed with the same kind; persistent ones recover now and then."""
        now_failing = {(f["entity"], f["record_id"]) for f in failing_now}
        transient_now = any(f["error_class"] in ("rate_limit", "timeout", "auth") for f in failing_now)
        recovered = []
        if not transient_now:
            for key in list(self.transient):
                if key not in now_failing:
                    del self.transient[key]
                    recovered.append({"entity": key[0], "record_id": key[1]})
        for key in list(self.persistent):
            if key not in now_failing and self.rng.random() < self.persistent_recovery:
                del self.persistent[key]
                recovered.append({"entity": key[0], "record_id": key[1]})
        return recovered

    def _failure(self, kind, started, finished, ref=None, record_id=None):
        rng = self.rng
        n = rng.randint(1000, 9999)
        record_id = record_id or f"{kind.prefix}-{rng.randint(10000, 99999)}"
        ref = ref or rng.choice(
            EXPENSE_CATEGORIES
            if "expense category" in kind.message
            else TAX_CODES
            if "tax code" in kind.message
            else [f"{started:%Y}-{m:02d}" for m in range(1, 13)]
        )
        message = kind.message.format(n=n, rid=record_id, ref=ref)
        occurred = started + (finished - started) * rng.random()
        payload = {"id": record_id}
        amount = None
        if kind.entity == "time_entry":
            hours = rng.choice((1.5, 4, 7.5, 8))
            payload = {"id": record_id, "employee": f"E-{rng.randint(10, 99)}", "hours": hours}
            payload["project"] = f"P-{n}"
            if "time_entry" in self.flow.money:
                payload["rate"] = self.flow.rate
                amount = round(hours * self.flow.rate, 2)
        elif kind.entity in self.flow.money:
            amount = round(rng.uniform(*self.flow.money[kind.entity]), 2)
        if amount is not None:
            payload["amount"] = amount
            payload["currency"] = self.flow.currency
        if kind.entity == "expense":
            payload["iban"] = "DE89370400440532013000"
        (self.transient if kind.transient else self.persistent)[(kind.entity, record_id)] = occurred
        body = {"code": kind.error_code or kind.error_class.upper(), "message": message}
        failure = {
            "entity": kind.entity,
            "record_id": record_id,
            "operation": rng.choice(("create", "create", "update")),
            "error_code": kind.error_code,
            "error_class": kind.error_class,
            "message": message,
            "occurred_at": _iso(occurred),
            "source_changed_at": _iso(occurred - timedelta(minutes=rng.randint(5, 240))),
            "payload": payload,
            "response": {"status": 429 if kind.error_class == "rate_limit" else 400, "body": json.dumps(body)},
        }
        if failure["error_code"] is None:
            del failure["error_code"]
        if amount is not None:
            # Contract 3.1 (1.1): the money this record carries, in the tenant's currency.
            failure["amount"] = amount
            failure["currency"] = self.flow.currency
        return failure

    def _fresh_failure(self, fresh, started, finished):
        """A failure of ``fresh``: its own record and amount; it stays
        failed (never recovers) so its exception waits for someone."""
        failure = self._failure(fresh.kind, started, finished, record_id=fresh.record_id)
        self.persistent.pop((fresh.kind.entity, fresh.record_id), None)
        for key in ("amount", "currency"):
            failure.pop(key, None)
            failure["payload"].pop(key, None)
        if fresh.amount is not None:
            failure["amount"] = failure["payload"]["amount"] = fresh.amount
            failure["currency"] = failure["payload"]["currency"] = self.flow.currency
        return failure

    def _log(self, at, level, message, context):
        return {"at": _iso(at), "level": level, "message": message, "context": context}
