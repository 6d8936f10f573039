"""The test database as a subprocess sees it: on PostgreSQL the live test
database itself, on SQLite a file copy of the in-memory test database
(copied back with ``read_back``). Use from ``transaction=True`` tests."""

import sqlite3

from django.db import connection

from integrations.models import Replay


class Database:
    """Where the subprocess finds the test database, and how to read it back."""

    def __init__(self, tmp_path):
        self.sqlite_file = None
        if connection.vendor == "sqlite":
            self.sqlite_file = str(tmp_path / "queue.sqlite3")

    def env(self):
        if self.sqlite_file is None:
            s = connection.settings_dict
            port = s.get("PORT") or 5432
            user = s.get("USER") or "postgres"
            password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
            return {"DATABASE_URL": f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{port}/{s['NAME']}"}
        connection.ensure_connection()
        target = sqlite3.connect(self.sqlite_file)
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
        return {"OPSCONSOLE_SQLITE_PATH": self.sqlite_file, "DATABASE_URL": ""}

    def status(self, replay_id):
        if self.sqlite_file is None:
            return Replay.objects.values_list("status", flat=True).get(pk=replay_id)
        db = sqlite3.connect(self.sqlite_file, timeout=20)
        try:
            row = db.execute("SELECT status FROM integrations_replay WHERE id = ?", (replay_id.hex,)).fetchone()
        finally:
            db.close()
        return row[0]

    def read_back(self):
        if self.sqlite_file is not None:
            source = sqlite3.connect(self.sqlite_file, timeout=20)
            source.backup(connection.connection)
            source.close()
