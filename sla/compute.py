"""SLA math (contract 4.4 and the burn rates of section 6), with no Django
import: plain numbers, datetimes and lists in, plain results out.

Instants inside this module are epoch seconds (floats) so that interval
arithmetic is exact and cheap; callers convert at the edges with ``ts``.

Who relies on this: ``sla.engine`` (the API, the pages, the reports) and
``sla.burn`` (the alerts), and ``sla.rollups``, which stores the per-day
aggregates built by ``RunAgg`` and ``Skeleton`` below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

FINISHED = ("succeeded", "partial", "failed")


def ts(dt: datetime) -> float:
    """Epoch seconds of an aware datetime."""
    return dt.timestamp()


# --- intervals --------------------------------------------------------------
# An interval is a half-open (start, end) pair of epoch seconds.


def merge(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, non-overlapping, non-empty union of ``intervals`` (touching ones joined)."""
    out: list[list[float]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def clip(intervals: Iterable[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    return [(max(a, start), min(b, end)) for a, b in intervals if min(b, end) > max(a, start)]


Intervals = list[tuple[float, float]]


def subtract(intervals: Iterable[tuple[float, float]], cuts: Iterable[tuple[float, float]]) -> Intervals:
    """``intervals`` minus the union of ``cuts``."""
    cuts = merge(cuts)
    out = []
    for a, b in merge(intervals):
        pos = a
        for c, d in cuts:
            if d <= pos or c >= b:
                continue
            if c > pos:
                out.append((pos, c))
            pos = max(pos, d)
            if pos >= b:
                break
        if pos < b:
            out.append((pos, b))
    return out


def length(intervals: Iterable[tuple[float, float]]) -> float:
    return sum(b - a for a, b in merge(intervals))


def inside(t: float, intervals: list[tuple[float, float]]) -> bool:
    """True when ``t`` lies in one of the (half-open) ``intervals``."""
    return any(a <= t < b for a, b in intervals)


# --- run-based objectives ---------------------------------------------------


def lag_key(lag_seconds: int) -> int:
    """Histogram key of a lag: whole minutes, rounded up. For an integer
    threshold T, ``lag <= 60 * T`` exactly when ``lag_key(lag) <= T``, so one
    histogram answers every freshness threshold."""
    return -(-int(lag_seconds) // 60)


@dataclass
class RunAgg:
    """What the run-based objectives need from a set of runs."""

    succeeded: int = 0
    partial: int = 0
    failed: int = 0
    running: int = 0
    rec_succeeded: int = 0
    rec_failed: int = 0
    rec_skipped: int = 0
    lag_hist: dict[int, int] = field(default_factory=dict)

    def add_run(self, status: str, succeeded: int, failed: int, skipped: int, lag_seconds: int | None) -> None:
        if status not in FINISHED:
            self.running += 1
            return
        setattr(self, status, getattr(self, status) + 1)
        self.rec_succeeded += succeeded
        self.rec_failed += failed
        self.rec_skipped += skipped
        if lag_seconds is not None:
            k = lag_key(lag_seconds)
            self.lag_hist[k] = self.lag_hist.get(k, 0) + 1

    def add(self, other: RunAgg) -> RunAgg:
        for name in ("succeeded", "partial", "failed", "running", "rec_succeeded", "rec_failed", "rec_skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.lag_hist.items():
            self.lag_hist[int(k)] = self.lag_hist.get(int(k), 0) + v
        return self

    @property
    def finished(self) -> int:
        return self.succeeded + self.partial + self.failed


def run_success(agg: RunAgg) -> tuple[int, int]:
    """(good, total): finished runs, good when succeeded."""
    return agg.succeeded, agg.finished


def record_success(agg: RunAgg) -> tuple[int, int]:
    """(good, total) = (sum succeeded, sum succeeded + failed) over finished runs."""
    return agg.rec_succeeded, agg.rec_succeeded + agg.rec_failed


def freshness(agg: RunAgg, threshold_minutes: int) -> tuple[int, int]:
    """(good, total) over finished runs that reported a lag: good when lag <= 60 T."""
    total = sum(agg.lag_hist.values())
    good = sum(v for k, v in agg.lag_hist.items() if int(k) <= threshold_minutes)
    return good, total


# --- timeliness ---------------------------------------------------------------


@dataclass
class Skeleton:
    """What timeliness needs from a sorted run of heartbeats, for a given
    every + grace (``eg`` seconds): the first and the last heartbeat, every
    gap between consecutive heartbeats longer than ``eg``, and ``late``: late
    seconds of gaps already summed up (see ``compact``). Skeletons of
    consecutive stretches join into the skeleton of the whole."""

    first: float | None = None
    last: float | None = None
    gaps: list[tuple[float, float]] = field(default_factory=list)
    late: float = 0.0

    @classmethod
    def of(cls, heartbeats: Iterable[float], eg: float) -> Skeleton:
        sk = cls()
        for t in sorted(heartbeats):
            sk.push(t, eg)
        return sk

    def push(self, t: float, eg: float) -> None:
        """Append one heartbeat no earlier than the last one."""
        if self.first is None:
            self.first = self.last = t
            return
        if t - self.last > eg:
            self.gaps.append((self.last, t))
        self.last = t

    def join(self, later: Skeleton, eg: float) -> Skeleton:
        """This skeleton followed by ``later`` (all of whose heartbeats come after)."""
        if later.first is None:
            return Skeleton(self.first, self.last, list(self.gaps), self.late + later.late)
        if self.first is None:
            return Skeleton(later.first, later.last, list(later.gaps), self.late + later.late)
        gaps = list(self.gaps)
        if later.first - self.last > eg:
            gaps.append((self.last, later.first))
        return Skeleton(self.first, later.last, gaps + list(later.gaps), self.late + later.late)

    def compact(self, eg: float, excluded: list[tuple[float, float]] = ()) -> Skeleton:
        """The same skeleton with its gaps summed into ``late`` (their late
        seconds outside ``excluded``): constant size, for a stretch that lies
        wholly inside the windows it will be measured over (a stored day)."""
        late = [(a + eg, b) for a, b in self.gaps if b > a + eg]
        return Skeleton(self.first, self.last, [], self.late + length(subtract(late, excluded)))


def late_intervals(sk: Skeleton, eg: float, until: float) -> list[tuple[float, float]]:
    """After a heartbeat at a the integration is late from a + eg until the
    next heartbeat, or until ``until`` after the last one."""
    if sk.first is None:
        return []
    out = [(a + eg, b) for a, b in sk.gaps if b > a + eg]
    if until > sk.last + eg:
        out.append((sk.last + eg, until))
    return out


def timeliness(
    sk: Skeleton,
    eg: float,
    first_ever: float | None,
    w_start: float,
    w_end: float,
    excluded: list[tuple[float, float]] = (),
) -> tuple[float, float]:
    """(good, total) seconds of W = [w_start, w_end).

    ``sk`` holds the heartbeats up to w_end, including at least the last one
    before w_start when there is one (lateness carries into W); its ``late``
    seconds, if any, lie inside W and outside ``excluded``.
    total = the seconds of W from the first heartbeat ever, minus ``excluded``
    (maintenance); good = total minus the late seconds inside it. No
    heartbeat in or before W: (0, 0)."""
    if first_ever is None or first_ever >= w_end:
        return 0.0, 0.0
    counted = subtract([(max(w_start, first_ever), w_end)], excluded)
    total = length(counted)
    late = clip(late_intervals(sk, eg, w_end), w_start, w_end)
    late_counted = length(subtract(merge(late), subtract([(w_start, w_end)], counted))) + sk.late
    return total - late_counted, total


# --- acknowledge and resolve ------------------------------------------------


@dataclass
class Opening:
    opened_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    ignored_at: datetime | None = None

    @property
    def acked_at(self) -> datetime | None:
        """Resolving or ignoring also acknowledges."""
        times = [t for t in (self.acknowledged_at, self.resolved_at, self.ignored_at) if t is not None]
        return min(times) if times else None


def response_objective(
    kind: str,
    openings: Iterable[Opening],
    deadline_of: Callable[[datetime], datetime],
    w_start: datetime,
    w_end: datetime,
    now: datetime,
) -> tuple[int, int]:
    """(good, total) for ``kind`` "acknowledge" or "resolve" over the openings
    whose opened_at is in W. Deadline = ``deadline_of(opened_at)``. Good when
    done by the deadline; still waiting with the deadline not passed: left
    out; passed: bad. Ignored openings are left out of resolve."""
    good = total = 0
    for o in openings:
        if not (w_start <= o.opened_at < w_end):
            continue
        if kind == "resolve":
            if o.ignored_at is not None:
                continue
            done = o.resolved_at
        else:
            done = o.acked_at
        deadline = deadline_of(o.opened_at)
        if done is None:
            if now <= deadline:
                continue
            total += 1
            continue
        total += 1
        if done <= deadline:
            good += 1
    return good, total


# --- figures ----------------------------------------------------------------


def figures(good: float, total: float, target: float) -> dict:
    """attained, met and error_budget of one SLA row (contract 4.4)."""
    if total:
        attained = 100.0 * good / total
        met = 100.0 * good >= target * total
    else:
        attained = met = None
    allowed = (100.0 - target) / 100.0 * total
    spent = total - good
    remaining = 100.0 * (allowed - spent) / allowed if allowed else None
    return {
        "attained": attained,
        "met": met,
        "error_budget": {"allowed": allowed, "spent": spent, "remaining_pct": remaining},
    }


def burn_rate(good: float, total: float, target: float) -> float | None:
    """(bad / total) / (1 - target / 100); None without data or with a 100% target."""
    if not total or target >= 100:
        return None
    return ((total - good) / total) / (1.0 - target / 100.0)


def percentile(values: list[float], p: float) -> float | None:
    """Linear-interpolated percentile (p in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    v = sorted(values)
    if len(v) == 1:
        return float(v[0])
    pos = (len(v) - 1) * p / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)
