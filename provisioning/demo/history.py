"""Weeks of run documents (contract 3.1) as the demo's sync workers would
have sent them. Pure Python: deterministic for a given ``now``.

Each flow runs on its schedule; runs are skipped inside maintenance windows
and outages (heartbeat gaps). Failures come from a per-flow mix: persistent
ones (closed projects, missing mappings, duplicates, unknown references) are
reported once and wait for a fix or a replay, and now and then recover when
the source record changes; transient ones (rate limits, timeouts) are
retried by the next run, which reports them ``recovered``. An expired
credential fails every run of one flow for a few hours.
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
    run_fail_rate: float = 0.004  # a whole run fails (connection refused)
    slow_rate: float = 0.04  # lag over the freshness threshold
    running_last: bool = False


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
                K("opportunity", "validation", None, "Opportunity {rid} has no close date", 0.03),
                K("project", "reference", "KAN-404", "Account 'ACC-{n}' not found in Kantata", 0.025, prefix="PRJ"),
                K(
                    "opportunity",
                    "rate_limit",
                    "SF-429",
                    "Salesforce API rate limit exceeded (REQUEST_LIMIT_EXCEEDED)",
                    0.02,
                    (2, 6),
                    True,
                    "OPP",
                ),
            ],
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
                    0.08,
                    (1, 3),
                    prefix="TE",
                ),
                K("expense", "mapping", None, "No mapping for expense category '{ref}'", 0.03, prefix="EX"),
                K(
                    "time_entry",
                    "timeout",
                    "NS-TIMEOUT",
                    "Read timed out after 30 seconds calling SuiteTalk",
                    0.02,
                    (2, 5),
                    True,
                    "TE",
                ),
                K(
                    "time_entry",
                    "rate_limit",
                    "NS-429",
                    "NetSuite concurrency limit exceeded (429 Too Many Requests)",
                    0.02,
                    (3, 8),
                    True,
                    "TE",
                ),
            ],
            running_last=True,
        ),
        Flow(
            "contoso",
            "billing-milestone-sync",
            chicago,
            60,
            _worker("milestone-biller", "1.12.3", "w-07"),
            (2, 30),
            [
                K("invoice", "duplicate", "DUP-409", "Duplicate invoice number INV-2026-{n} already exists", 0.04),
                K("invoice", "reference", "NS-CUST-404", "Customer C-{n} not found in NetSuite", 0.03, prefix="MS"),
            ],
            outages=[(12 * 24 + 5, 5)],
        ),
        Flow(
            "fabrikam",
            "utilization-analytics",
            berlin,
            60,
            _worker("util-loader", "5.0.2", "fab-bi-1"),
            (100, 600),
            [
                K("resource", "mapping", None, "Resource R-{n} has no department mapping", 0.04, prefix="RES"),
                K(
                    "time_entry",
                    "timeout",
                    "PBI-TIMEOUT",
                    "Power BI push dataset request timed out",
                    0.02,
                    (5, 20),
                    True,
                ),
            ],
            auth_outage=(9 * 24 + 2, 5),
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
                    0.15,
                    (1, 4),
                    prefix="RS",
                ),
                K("project", "validation", "BC-422", "Project P-{n} has no contract value", 0.05, prefix="P"),
            ],
            outages=[(20 * 24 + 3, 8)],
        ),
        Flow(
            "tailspin",
            "master-data-sync",
            singapore,
            60,
            _worker("hr-master", "4.2.0", "sg-w-1"),
            (5, 60),
            [
                K("employee", "validation", None, "Employee E-{n} has no manager assigned", 0.05, prefix="E"),
                K("cost_center", "reference", "KAN-CC-404", "Cost center CC-{n} does not exist in Kantata", 0.04),
            ],
            # Down now: no heartbeat for the last three hours.
            outages=[(6 * 24 + 4, 3), (3, 4)],
        ),
        Flow(
            "tailspin",
            "time-expense-posting",
            singapore,
            30,
            _worker("te-poster", "3.4.1", "sg-w-2"),
            (20, 90),
            [
                K("time_entry", "validation", "SI-BL01", "Project P-{n} is closed in Sage Intacct", 0.05, (1, 2)),
                K("expense", "validation", None, "Invalid tax code '{ref}' for Singapore GST", 0.02, prefix="EX"),
                K("time_entry", "rate_limit", "SI-429", "Sage Intacct rate limit reached (429)", 0.02, (2, 6), True),
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
        if self.auth and self.auth[0] <= started < self.auth[1]:
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
        lag = rng.randint(40, 900) if rng.random() > flow.slow_rate else rng.randint(1900, 5400)
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

    def _failure(self, kind, started, finished, ref=None):
        rng = self.rng
        n = rng.randint(1000, 9999)
        record_id = f"{kind.prefix}-{rng.randint(10000, 99999)}"
        ref = ref or rng.choice(
            EXPENSE_CATEGORIES
            if "expense category" in kind.message
            else TAX_CODES
            if "tax code" in kind.message
            else [f"{started:%Y}-{m:02d}" for m in range(1, 13)]
        )
        message = kind.message.format(n=n, rid=record_id, ref=ref)
        occurred = started + (finished - started) * rng.random()
        payload = {"id": record_id, "amount": round(rng.uniform(50, 4000), 2), "currency": "USD"}
        if kind.entity == "time_entry":
            payload = {"id": record_id, "employee": f"E-{rng.randint(10, 99)}", "hours": rng.choice((1.5, 4, 7.5, 8))}
            payload["project"] = f"P-{n}"
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
        return failure

    def _log(self, at, level, message, context):
        return {"at": _iso(at), "level": level, "message": message, "context": context}
