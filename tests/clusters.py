"""Highly available PostgreSQL and Redis on this machine, for the failover test and `make chaos`
(issue 35 §5): a PostgreSQL primary with a streaming replica (initdb + pg_basebackup into temp
directories) and a Redis master with a replica and three sentinels, each on free ports.

No Django here: benchmarks/chaos.py uses it before settings exist. Every process runs in a
session of its own and is killed with its whole process group by `close()`; every wait has a
deadline. As root, PostgreSQL runs as the `postgres` user (initdb refuses root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

SENTINEL_MASTER = "mymaster"
PG_BIN_DIRS = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin",
               "/usr/lib/postgresql/15/bin"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin() -> Path | None:
    """The directory holding initdb, pg_basebackup and postgres (PG_BIN wins), or None."""
    candidates = [os.environ.get("PG_BIN", ""), *PG_BIN_DIRS]
    if found := shutil.which("initdb"):
        candidates.insert(1, str(Path(found).parent))
    for directory in filter(None, candidates):
        path = Path(directory)
        if all((path / name).exists() for name in ("initdb", "pg_basebackup", "postgres")):
            return path
    return None


def missing_binaries(redis_sentinels: bool = True) -> str | None:
    """Why a local failover set-up cannot be started here (None: it can)."""
    if pg_bin() is None:
        return "initdb, pg_basebackup and postgres not found (set PG_BIN)"
    if redis_sentinels and shutil.which("redis-server") is None:
        return "redis-server not found (its --sentinel mode is Redis Sentinel)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run PostgreSQL as"
    return None


def _as_postgres() -> dict:
    """Popen arguments that run PostgreSQL's programs as `postgres` when we are root."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam("postgres")
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _owned_dir(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir(mode=0o700)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _wait(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.1)


def kill_group(process: subprocess.Popen | None, sig: int = signal.SIGKILL) -> None:
    """Signals the process's whole group (it was started in a session of its own) and, for
    SIGKILL, reaps it (bounded)."""
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
    if sig == signal.SIGKILL:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


class Postgres:
    """One PostgreSQL server (`postgres -D`), in the foreground of a session of its own."""

    def __init__(self, data: Path, port: int, log: Path):
        self.data, self.port, self.log = data, port, log
        self.process: subprocess.Popen | None = None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=2"

    def init(self) -> Postgres:
        """initdb: a new cluster in `data` (trust authentication, on 127.0.0.1 only)."""
        subprocess.run(
            [str(pg_bin() / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "-N", "-E", "UTF8", "--locale=C"],
            check=True, capture_output=True, timeout=120, **_as_postgres(),
        )  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\nfsync = off\nfull_page_writes = off\n"
                "max_connections = 200\n"
            )
        return self

    def start(self, seconds: float = 30) -> Postgres:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(pg_bin() / "postgres"), "-D", str(self.data)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **_as_postgres(),
            )  # fmt: skip
        _wait(self.answers, seconds, f"PostgreSQL on port {self.port}")
        return self

    def answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        with psycopg.connect(self.dsn) as connection:
            connection.execute("SELECT 1")
        return True

    def crash(self) -> None:
        """Gone at once, as a machine that dies: every backend killed, nothing flushed."""
        kill_group(self.process)
        self.process = None

    def stop(self) -> None:
        """A fast shutdown (SIGINT): clients are disconnected, then the server exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self.crash()

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def copy_from(self, source: dict, name: str) -> None:
        """A copy of another server's database (`source`: host, port, user, dbname) as `name`
        here: pg_dump piped into psql, bounded."""
        self.create_database(name)
        dump = subprocess.Popen(
            [str(pg_bin() / "pg_dump"), "--no-owner", "--no-privileges",
             "-h", source["host"], "-p", str(source["port"]), "-U", source["user"],
             "-d", source["dbname"]], stdout=subprocess.PIPE,
        )  # fmt: skip
        try:
            subprocess.run(
                [str(pg_bin() / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                 "-p", str(self.port), "-U", "postgres", "-d", name],
                stdin=dump.stdout, check=True, capture_output=True, timeout=60,
            )  # fmt: skip
        finally:
            dump.stdout.close()
            if dump.wait(timeout=60):
                raise RuntimeError(f"pg_dump of {source['dbname']} failed")

    def in_recovery(self) -> bool:
        with psycopg.connect(self.dsn) as connection:
            return connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]

    def promote(self, seconds: float = 15) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute("SELECT pg_promote(true, %s)", (int(seconds),))
        _wait(lambda: not self.in_recovery(), seconds, "the replica's promotion")


class PostgresPair:
    """A primary and a streaming replica (synchronous: a commit the primary acknowledged is on
    the replica too, so a failover loses no report). `url(db)` is the multi-host URL the app
    uses: libpq tries both and keeps the one that accepts writes."""

    def __init__(self, root: Path):
        self.root = root
        self.primary = Postgres(_owned_dir(root, "pg-primary"), free_port(), root / "pg1.log")
        self.replica = Postgres(_owned_dir(root, "pg-replica"), free_port(), root / "pg2.log")

    def url(self, db: str) -> str:
        hosts = f"127.0.0.1:{self.primary.port},127.0.0.1:{self.replica.port}"
        return f"postgres://postgres@{hosts}/{db}?target_session_attrs=read-write"

    def start(self) -> PostgresPair:
        bin_dir = pg_bin()
        self.primary.init()
        with open(self.primary.data / "postgresql.conf", "a") as conf:
            conf.write(
                "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
                "wal_sender_timeout = 5s\nwal_receiver_status_interval = 1s\n"
                # Synchronous: no acknowledged commit is missing on the replica.
                "synchronous_standby_names = '*'\n"
            )
        self.primary.start()
        subprocess.run(
            [str(bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port),
             "-U", "postgres", "-D", str(self.replica.data), "-X", "stream", "-R"],
            check=True, capture_output=True, timeout=120, **_as_postgres(),
        )  # fmt: skip
        with open(self.replica.data / "postgresql.conf", "a") as conf:
            # Promoted, it has no standby of its own: it must not wait for one.
            conf.write(
                f"port = {self.replica.port}\nsynchronous_standby_names = ''\n"
                "wal_retrieve_retry_interval = 1s\n"  # back soon after a primary restart
            )
        self.replica.start()
        _wait(self._streaming, 30, "the replica streaming from the primary")
        return self

    def _streaming(self) -> bool:
        with psycopg.connect(self.primary.dsn) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
            ).fetchone()
        return row[0] >= 1

    def fail_over(self) -> float:
        """The primary dies; the replica is promoted. Seconds until it accepts writes."""
        start = time.monotonic()
        self.primary.crash()
        self.replica.promote()
        return time.monotonic() - start

    def close(self) -> None:
        for server in (self.primary, self.replica):
            server.crash()


class RedisNode:
    def __init__(self, root: Path, name: str, port: int, sentinel: bool = False):
        self.root, self.name, self.port, self.sentinel = root, name, port, sentinel
        self.process: subprocess.Popen | None = None
        self.conf = root / f"{name}.conf"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def start(self, replica_of: int | None = None, seconds: float = 10) -> RedisNode:
        args = ["redis-server", str(self.conf)]
        if self.sentinel:
            args.append("--sentinel")
        else:
            args += ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", str(self.root)]  # fmt: skip
            if replica_of is not None:
                args += ["--replicaof", "127.0.0.1", str(replica_of)]
            self.conf.touch()  # sentinels rewrite it (CONFIG REWRITE) on a change of role
        with open(self.root / f"{self.name}.log", "ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )  # fmt: skip

        def pings():
            with self.client() as client:
                return client.ping()

        _wait(pings, seconds, f"{self.name} on port {self.port}")
        return self

    def crash(self) -> None:
        kill_group(self.process)
        self.process = None


class RedisSentinels:
    """A Redis master, one replica and three sentinels (quorum 2) that fail over within about
    two seconds of the master going away."""

    def __init__(self, root: Path, master_name: str = SENTINEL_MASTER):
        self.root, self.master_name = root, master_name
        self.nodes = [RedisNode(root, f"redis-{i}", free_port()) for i in (1, 2)]
        self.sentinels = [RedisNode(root, f"sentinel-{i}", free_port(), True) for i in (1, 2, 3)]

    @property
    def addresses(self) -> str:
        """REDIS_SENTINELS for the app: host:port,host:port,host:port."""
        return ",".join(f"127.0.0.1:{node.port}" for node in self.sentinels)

    def start(self) -> RedisSentinels:
        master, replica = self.nodes
        master.start()
        replica.start(replica_of=master.port)
        for sentinel in self.sentinels:
            sentinel.conf.write_text(
                f"port {sentinel.port}\nbind 127.0.0.1\ndir {self.root}\n"
                f"sentinel monitor {self.master_name} 127.0.0.1 {master.port} 2\n"
                f"sentinel down-after-milliseconds {self.master_name} 1000\n"
                f"sentinel failover-timeout {self.master_name} 5000\n"
                f"sentinel parallel-syncs {self.master_name} 1\n"
            )
            sentinel.start()
        _wait(self._ready, 20, "the sentinels seeing the master, its replica and each other")
        return self

    def _ready(self) -> bool:
        for sentinel in self.sentinels:
            with sentinel.client() as client:
                state = client.sentinel_master(self.master_name)
                if state["num-slaves"] < 1 or state["num-other-sentinels"] < 2:
                    return False
        return True

    def master_port(self) -> int:
        for sentinel in self.sentinels:
            with contextlib.suppress(redis.RedisError), sentinel.client() as client:
                return int(client.sentinel_get_master_addr_by_name(self.master_name)[1])
        raise RuntimeError("no sentinel answered")

    def node(self, port: int) -> RedisNode:
        return next(node for node in self.nodes if node.port == port)

    def fail_over(self, seconds: float = 20) -> float:
        """The master dies; seconds until the sentinels name the replica and it accepts writes.
        The old master is started again, and the sentinels make it a replica of the new one."""
        old = self.node(self.master_port())
        start = time.monotonic()
        old.crash()

        def promoted():
            if self.master_port() == old.port:
                return False
            with self.node(self.master_port()).client() as client:
                return client.role()[0] == b"master"

        _wait(promoted, seconds, "a sentinel failover")
        took = time.monotonic() - start
        old.start(replica_of=self.master_port())
        return took

    def stop_all(self) -> int:
        """Every data node stops (the sentinels stay): returns the master's port."""
        port = self.master_port()
        for node in self.nodes:
            node.crash()
        return port

    def start_all(self, master_port: int) -> None:
        self.node(master_port).start()
        for node in self.nodes:
            if node.port != master_port:
                node.start(replica_of=master_port)

    def close(self) -> None:
        for node in [*self.sentinels, *self.nodes]:
            node.crash()


@contextlib.contextmanager
def temp_root():
    """A temp directory PostgreSQL (run as `postgres` when we are root) can reach."""
    root = Path(tempfile.mkdtemp(prefix="dispatch112-ha-"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def single_postgres():
    """One PostgreSQL server of our own (a test may stop it), killed at the end."""
    with temp_root() as root:
        server = Postgres(_owned_dir(root, "pg"), free_port(), root / "pg.log")
        try:
            yield server.init().start()
        finally:
            server.crash()


@contextlib.contextmanager
def failover_set(pg: bool = True, redis_sentinels: bool = True):
    """(PostgresPair | None, RedisSentinels | None) in a temp directory; all killed at the end."""
    with temp_root() as root, _started() as started:
        pair = PostgresPair(root) if pg else None
        if pair is not None:
            started.append(pair)
            pair.start()
        sentinels = RedisSentinels(root) if redis_sentinels else None
        if sentinels is not None:
            started.append(sentinels)
            sentinels.start()
        yield pair, sentinels


@contextlib.contextmanager
def _started():
    """A list to put what was started in: each one's close() runs at the end."""
    started: list = []
    try:
        yield started
    finally:
        for part in reversed(started):
            part.close()
