"""Store outages for tests, without touching the machine's PostgreSQL server: a TCP proxy that
can refuse connections, a SQLite file locked by another writer, a PostgreSQL table locked by
another transaction, and a PostgreSQL database switched to read-only."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url

from tests.process_support import free_port


class TcpProxy:
    """127.0.0.1:port → target, until `refuse()`: then new connections are refused and the open
    ones are cut, as when the database server goes away; `accept()` brings it back."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.port = free_port()
        self._target = (target_host, target_port)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def accept(self) -> None:
        """Listen (again) on `port` and forward every connection to the target."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._serve, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        """Stop listening and cut every forwarded connection."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone leaves it listening.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # refused: the listener was closed
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def proxied_url(database_url: str, proxy: TcpProxy) -> str:
    """The same PostgreSQL database, reached through `proxy`."""
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def _libpq(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@contextlib.contextmanager
def sqlite_write_lock(database_url: str) -> Iterator[None]:
    """Another connection holds the store's write lock (BEGIN EXCLUSIVE) until the block ends."""
    path = make_url(database_url).database
    assert path, database_url
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@contextlib.contextmanager
def postgres_table_lock(database_url: str, table: str) -> Iterator[None]:
    """Another transaction holds `table` in EXCLUSIVE mode: reads go on, writes wait for it."""
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        yield
        conn.rollback()


@contextlib.contextmanager
def postgres_read_only(database_url: str) -> Iterator[None]:
    """The database takes no writes (default_transaction_read_only, as on a standby) until the
    block ends; connections open before it are cut so that every new one is read-only."""
    name = make_url(database_url).database
    admin_url = make_url(database_url).set(database="postgres")
    with psycopg.connect(_libpq(admin_url.render_as_string(hide_password=False)), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        _cut_connections(admin, name)
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            _cut_connections(admin, name)


def _cut_connections(admin: psycopg.Connection[tuple[object, ...]], database: str | None) -> None:
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    )
