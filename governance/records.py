"""The system-of-record matrix of a tenant: for each kind of record, the
system that owns it (``system_of_record`` in the configuration) and the
integrations that carry it, from which system to which, with what a
reviewer should look at, in words:

1. an integration writes an entity into the system that owns it from a
   system that does not ("master-data-sync writes project into Kantata from
   NetSuite, but Kantata owns project");
2. an entity is carried both ways between two systems;
3. integrations carry an entity that no system owns (or whose owner is not
   one of the tenant's systems)."""

from dataclasses import dataclass, field


@dataclass
class Carrier:
    integration: object
    source: object
    target: object


@dataclass
class EntityRow:
    entity: str
    owner_slug: str | None
    owner: object | None  # the System, None when unknown or unowned
    carriers: list = field(default_factory=list)
    flags: list = field(default_factory=list)


def system_name(system):
    return system.product or system.slug


def _flags(row):
    out = []
    name = row.entity
    if row.carriers and row.owner_slug is None:
        out.append(f"{name} is carried by {_names(row.carriers)} but no system owns it")
    elif row.carriers and row.owner is None:
        out.append(f"{name} is owned by '{row.owner_slug}', which is not one of this tenant's systems")
    if row.owner is not None:
        for c in row.carriers:
            if c.target.pk == row.owner.pk and c.source.pk != row.owner.pk:
                out.append(
                    f"{c.integration.slug} writes {name} into {system_name(c.target)} from "
                    f"{system_name(c.source)}, but {system_name(row.owner)} owns {name}"
                )
    seen = set()
    for a in row.carriers:
        for b in row.carriers:
            pair = frozenset((a.source.pk, a.target.pk))
            if a.source.pk == b.target.pk and a.target.pk == b.source.pk and a.source.pk != a.target.pk:
                if pair in seen:
                    continue
                seen.add(pair)
                out.append(
                    f"{name} is carried both ways between {system_name(a.source)} and {system_name(a.target)} "
                    f"({a.integration.slug} and {b.integration.slug})"
                )
    return out


def _names(carriers):
    return ", ".join(sorted({c.integration.slug for c in carriers}))


def matrix(tenant, systems, integrations):
    """[EntityRow] by entity: every entity the tenant's ``system_of_record``
    names or an integration carries."""
    by_slug = {s.slug: s for s in systems}
    owners = tenant.system_of_record if isinstance(tenant.system_of_record, dict) else {}
    rows = {}
    for entity, slug in owners.items():
        slug = slug if isinstance(slug, str) else None
        rows[str(entity)] = EntityRow(str(entity), slug, by_slug.get(slug))
    for i in integrations:
        for entity in i.entities if isinstance(i.entities, list) else []:
            row = rows.setdefault(str(entity), EntityRow(str(entity), None, None))
            row.carriers.append(Carrier(i, i.source, i.target))
    for row in rows.values():
        row.carriers.sort(key=lambda c: c.integration.slug)
        row.flags = _flags(row)
    return sorted(rows.values(), key=lambda r: r.entity)
