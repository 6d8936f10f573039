"""The configuration change log: each ``config.apply`` audit entry as what a
reviewer reads: what was created, what was updated with old → new values,
what was deleted, per kind. Entries written before the values were kept
list the changed fields only."""

import json
from dataclasses import dataclass, field

KIND_LABELS = {
    "partner": "Partner",
    "plan": "SLA plan",
    "objective": "Objective",
    "user": "User",
    "tenant": "Tenant",
    "system": "System",
    "integration": "Integration",
    "maintenance": "Maintenance window",
    "alert": "Alert channel",
    "routing": "Routing rule",
}
NO_VALUE = object()


@dataclass
class FieldChange:
    field: str
    old: object = NO_VALUE
    new: object = NO_VALUE

    @property
    def known(self):
        return self.old is not NO_VALUE

    @property
    def old_text(self):
        return shown(self.old)

    @property
    def new_text(self):
        return shown(self.new)


@dataclass
class ChangeSet:
    entry: object
    created: list = field(default_factory=list)  # [(kind label, [names])]
    updated: list = field(default_factory=list)  # [(kind label, name, [FieldChange])]
    deleted: list = field(default_factory=list)  # [(kind label, [names])]


def shown(value):
    """A stored value as text: empty for nothing, JSON for lists and maps."""
    if value is NO_VALUE or value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _kinds(group):
    if not isinstance(group, dict):
        return []
    return sorted(group.items(), key=lambda kv: list(KIND_LABELS).index(kv[0]) if kv[0] in KIND_LABELS else 99)


def describe(entry):
    """The ChangeSet of one ``config.apply`` entry (tolerant of any stored shape)."""
    data = entry.data if isinstance(entry.data, dict) else {}
    out = ChangeSet(entry)
    values = data.get("values") if isinstance(data.get("values"), dict) else {}
    for verb, target in (("created", out.created), ("deleted", out.deleted)):
        for kind, names in _kinds(data.get(verb)):
            if isinstance(names, list) and names:
                target.append((KIND_LABELS.get(kind, kind), [str(n) for n in names]))
    for kind, objects in _kinds(data.get("updated")):
        if not isinstance(objects, dict):
            continue
        known = values.get(kind) if isinstance(values.get(kind), dict) else {}
        for name, fields in objects.items():
            mine = known.get(name) if isinstance(known.get(name), dict) else {}
            changes = []
            for f in fields if isinstance(fields, list) else []:
                v = mine.get(f)
                if isinstance(v, dict) and "old" in v:
                    changes.append(FieldChange(str(f), v.get("old"), v.get("new")))
                else:
                    changes.append(FieldChange(str(f)))
            out.updated.append((KIND_LABELS.get(kind, kind), str(name), changes))
    return out
