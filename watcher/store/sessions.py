"""The web app's sessions and its login throttling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from watcher.rows import LoginFailures
from watcher.store.codec import iso, parse_iso
from watcher.store.connection import Connection


class SessionStore(Connection):
    """Sessions by id, and failed logins per client, each change one transaction."""

    def session_start(self, sid: str, user: str, now: datetime, expires: datetime) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM web_sessions WHERE expires_at < ?", (iso(now),))
            c.execute(
                'INSERT INTO web_sessions (id, "user", created_at, expires_at) VALUES (?,?,?,?)',
                (sid, user, iso(now), iso(expires)),
            )

    def session_live(self, sid: str, now: datetime) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM web_sessions WHERE id = ? AND expires_at > ?", (sid, iso(now))
        ).fetchone()
        return row is not None

    def session_end(self, sid: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM web_sessions WHERE id = ?", (sid,))

    def sessions_end_all(self) -> int:
        with self.transaction() as c:
            return int(c.execute("DELETE FROM web_sessions").rowcount)

    def login_failures(self, client: str | None = None) -> list[LoginFailures]:
        sql = "SELECT client, failures, last_at, next_at, locked FROM login_failures"
        rows = self.conn.execute(
            sql + (" WHERE client = ?" if client else " ORDER BY client"),
            (client,) if client else (),
        ).fetchall()
        return [
            LoginFailures(r[0], r[1], parse_iso(r[2]), parse_iso(r[3]), bool(r[4])) for r in rows
        ]

    def login_attempt(
        self,
        clients: Sequence[str],
        now: datetime,
        judge: Callable[[LoginFailures, datetime], tuple[datetime | None, bool, datetime | None]],
    ) -> datetime | None:
        """In one transaction: None when every client in `clients` may try a password now (each
        is then held until `judge`'s hold time, so parallel tries wait), else when to come back
        (datetime.max when locked). `judge(row, now)` returns (come back at, locked, hold until)."""
        with self.transaction() as c:
            rows = {
                r[0]: LoginFailures(r[0], r[1], parse_iso(r[2]), parse_iso(r[3]), bool(r[4]))
                for r in c.execute(
                    "SELECT client, failures, last_at, next_at, locked FROM login_failures "  # noqa: S608
                    f"WHERE {self.any_of('client')}",
                    (self.listed(clients),),
                ).fetchall()
            }
            holds = []
            for client in clients:
                wait, locked, hold = judge(rows.get(client, LoginFailures(client)), now)
                if locked:
                    return datetime.max.replace(tzinfo=UTC)
                if wait is not None:
                    return wait
                holds.append((client, iso(hold) if hold else None))
            c.executemany(
                "INSERT INTO login_failures (client, next_at) VALUES (?, ?) "
                "ON CONFLICT (client) DO UPDATE SET next_at = excluded.next_at",
                holds,
            )
        return None

    def login_failed(
        self,
        clients: Sequence[str],
        now: datetime,
        judge: Callable[[LoginFailures, datetime], tuple[int, datetime, bool]],
    ) -> None:
        """Count a failed password for each client; `judge(previous row, now)` gives the new
        count, the next allowed time and whether the client is now locked out."""
        with self.transaction() as c:
            for client in clients:
                row = c.execute(
                    "SELECT failures, last_at, next_at, locked FROM login_failures "
                    "WHERE client = ?",
                    (client,),
                ).fetchone()
                previous = (
                    LoginFailures(
                        client, row[0], parse_iso(row[1]), parse_iso(row[2]), bool(row[3])
                    )
                    if row
                    else LoginFailures(client)
                )
                failures, next_at, locked = judge(previous, now)
                c.execute(
                    "INSERT INTO login_failures (client, failures, last_at, next_at, locked) "
                    "VALUES (?,?,?,?,?) ON CONFLICT (client) DO UPDATE SET "
                    "failures = excluded.failures, last_at = excluded.last_at, "
                    "next_at = excluded.next_at, locked = CASE WHEN excluded.locked > "
                    "login_failures.locked THEN excluded.locked ELSE login_failures.locked END",
                    (client, failures, iso(now), iso(next_at), int(locked)),
                )

    def login_succeeded(self, client: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM login_failures WHERE client = ?", (client,))

    def login_clear(self, client: str | None = None) -> int:
        """Forget failed logins (and lift lockouts): of one client, or all."""
        with self.transaction() as c:
            if client:
                return int(
                    c.execute("DELETE FROM login_failures WHERE client = ?", (client,)).rowcount
                )
            return int(c.execute("DELETE FROM login_failures").rowcount)
