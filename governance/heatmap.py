"""The portfolio heatmap: tenants × objectives, each cell the attained
figure of a pooled or tenant-wide SLA row, coloured by met, within half a
point of the target, or missed; rows sortable by their worst cell."""

from dataclasses import dataclass, field
from types import SimpleNamespace

from sla.charts import LABELS
from sla.objectives import sort_key as objective_order
from sla.verdict import verdict

# Below the target by at most this many points: "near" rather than missed.
NEAR_POINTS = 0.5


@dataclass(frozen=True)
class Column:
    objective: str
    priority: str | None

    @property
    def key(self):
        return self.objective + (f"-{self.priority}" if self.priority else "")

    @property
    def label(self):
        return LABELS.get(self.objective, self.objective) + (f" {self.priority}" if self.priority else "")


@dataclass
class Cell:
    row: dict | None

    @property
    def state(self):
        """met, near, missed, early (too early to judge: the allowed error
        budget is under one event, as on the SLA page and the portal), none
        (no data) or absent (objective not in force)."""
        if self.row is None:
            return "absent"
        if self.row["attained"] is None:
            return "none"
        if "error_budget" in self.row and verdict(self.row).key == "early":
            return "early"
        if self.row["met"]:
            return "met"
        return "near" if self.row["attained"] >= self.row["target"] - NEAR_POINTS else "missed"

    @property
    def margin(self):
        """attained − target, None without data or too early to judge (such
        cells do not make a tenant the worst)."""
        if self.row is None or self.row["attained"] is None or self.state == "early":
            return None
        return self.row["attained"] - self.row["target"]


@dataclass
class Line:
    entry: dict
    cells: list = field(default_factory=list)

    @property
    def worst(self):
        margins = [c.margin for c in self.cells if c.margin is not None]
        return min(margins) if margins else None


def columns_of(entries):
    seen = {}
    for e in entries:
        for row in e["objectives"]:
            seen.setdefault((row["objective"], row["priority"]), None)

    def order(identity):
        return objective_order(SimpleNamespace(objective=identity[0], priority=identity[1]))

    return [Column(*identity) for identity in sorted(seen, key=order)]


def heatmap(entries, sort="name"):
    """(columns, lines) for the portfolio ``entries`` (contract 4.6), sorted by
    tenant name, by worst margin first (``worst``), or by one column's
    attained figure, lowest first (a column key); no data sorts last."""
    columns = columns_of(entries)
    lines = []
    for e in entries:
        by_identity = {(r["objective"], r["priority"]): r for r in e["objectives"]}
        lines.append(Line(e, [Cell(by_identity.get((c.objective, c.priority))) for c in columns]))
    keys = [c.key for c in columns]
    if sort == "worst":
        lines.sort(key=lambda ln: (ln.worst is None, ln.worst if ln.worst is not None else 0))
    elif sort in keys:
        i = keys.index(sort)
        lines.sort(key=lambda ln: (ln.cells[i].margin is None, _attained(ln.cells[i])))
    return columns, lines


def _attained(cell):
    return cell.row["attained"] if cell.row is not None and cell.row["attained"] is not None else 0.0
