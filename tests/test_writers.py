"""Each table with rules has one writer (docs/architecture.md): nothing but the
named writer modules issues an UPDATE, INSERT or DELETE on exceptions,
openings, replays or runs, through the ORM or in SQL.

Read from the source (AST), so it covers code no test happens to run.
Deleting a tenant or an integration (configuration, the demo's reset) takes
its rows along by cascade; that is the parent's deletion, not a write here."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("opsconsole", "integrations", "sla", "alerts", "governance", "portal", "provisioning")

# model -> the modules (paths under the repository, a folder for a package)
# allowed to write it.
WRITERS = {
    "SyncException": ("integrations/sync_exceptions/",),
    "ExceptionOpening": ("integrations/sync_exceptions/",),
    "Replay": ("integrations/replays/",),
    "ReplayRecord": ("integrations/replays/",),
    "Run": ("integrations/ingest/", "integrations/retention.py"),
}
TABLES = {
    "SyncException": ("EXC", "integrations_syncexception"),
    "ExceptionOpening": ("OPENING", "integrations_exceptionopening"),
    "Replay": ("integrations_replay",),
    "ReplayRecord": ("integrations_replayrecord",),
    "Run": ("RUN", "integrations_run"),
}
WRITE_METHODS = {
    "update",
    "create",
    "bulk_create",
    "bulk_update",
    "delete",
    "get_or_create",
    "update_or_create",
    "save",
}


def sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in rel:
                yield rel, path.read_text()


def allowed(model, rel):
    return any(rel.startswith(prefix) for prefix in WRITERS[model])


def orm_writes(tree):
    """(model, line) of ``Model.objects….<write>(…)`` calls."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITE_METHODS:
            continue
        inner = node.func.value
        while isinstance(inner, ast.Call | ast.Attribute | ast.Subscript):
            if (
                isinstance(inner, ast.Attribute)
                and inner.attr == "objects"
                and isinstance(inner.value, ast.Name)
                and inner.value.id in WRITERS
            ):
                yield inner.value.id, node.lineno
                break
            inner = inner.func if isinstance(inner, ast.Call) else inner.value


def sql_writes(tree):
    """(model, line) of SQL text (plain or f-string) writing a table."""
    patterns = {
        model: re.compile(r"\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\{?(" + "|".join(names) + r")\b\}?", re.IGNORECASE)
        for model, names in TABLES.items()
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}" for v in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        for model, pattern in patterns.items():
            if pattern.search(text):
                yield model, node.lineno


def test_only_the_named_writers_write_exceptions_openings_replays_and_runs():
    strays = []
    for rel, text in sources():
        tree = ast.parse(text)
        for model, line in [*orm_writes(tree), *sql_writes(tree)]:
            if not allowed(model, rel):
                strays.append(f"{rel}:{line} writes {model}")
    assert strays == []


def test_the_check_sees_orm_and_sql_writes():
    tree = ast.parse(
        "SyncException.objects.filter(pk=1).update(status='open')\n"
        "Replay.objects.create(status='queued')\n"
        "cursor.execute(f'UPDATE {EXC} SET due_at = NULL')\n"
        "cursor.execute('delete from integrations_run where id = 1')\n"
        "Run.objects.filter(pk=1).values_list('pk')\n"
    )
    assert sorted([*orm_writes(tree), *sql_writes(tree)]) == [
        ("Replay", 2),
        ("Run", 4),
        ("SyncException", 1),
        ("SyncException", 3),
    ]
