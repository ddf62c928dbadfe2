"""Embedded DynamoDB-compatible servers, for demos and tests.

Two kinds are supported:

* ``'moto'`` — moto's server mode, run in this process on a background thread. Pure Python,
  every DynamoDB operation present. Needs the ``local`` extra: ``pip install 'flywheel[local]'``.
* ``'dynalite'`` — the dynalite Node.js server, run as a child process. Stricter validation and
  much faster queries, but no transactions, TTL or adding a GSI to an existing table. Needs
  Node.js >= 20 and ``npm install dynalite@4.0.0``.

Both listen on 127.0.0.1 and a free port, keep their data in memory, and are stopped when the
``with`` block ends, however it ends::

    with LocalServer('moto') as server:
        engine.connect_to_host(server.host, server.port)
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from typing_extensions import Self

    from .connection import DynamoDBConnection

__all__ = [
    "DYNALITE_INSTALL_HINT",
    "LocalServer",
    "LocalServerError",
    "ServerKind",
    "connect_local",
    "find_dynalite",
]

ServerKind = Literal["moto", "dynalite"]
SERVER_KINDS: tuple[str, ...] = ("moto", "dynalite")

DYNALITE_INSTALL_HINT = (
    "dynalite needs Node.js >= 20; install Node, then run `npm install dynalite@4.0.0` in the "
    "flywheel checkout (or `python3 dev.py test`, which does it), or point the "
    "FLYWHEEL_DYNALITE environment variable at a dynalite executable"
)
MOTO_INSTALL_HINT = "the 'moto' local server needs moto: pip install 'flywheel[local]'"

# Where a flywheel checkout keeps its Node tools: <root>/src/flywheel/local.py -> <root>.
# Only meaningful for an editable install; for an installed wheel the path simply won't exist.
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]

log = logging.getLogger("flywheel.local")


def _serialised_moto_server(base: Any) -> Any:
    """ThreadedMotoServer answering one request at a time.

    moto's backends are not thread-safe: with requests served concurrently, racing UpdateItem
    calls (ADD, or a conditional SET) lose writes that DynamoDB would keep, which would make
    flywheel's atomic increments and conflict checks look broken on the embedded server. A
    lock around moto's WSGI app gives the atomicity DynamoDB guarantees per item. If moto's
    internals ever change shape, fall back to the plain server.
    """
    try:
        from moto import server as moto_server

        # moto.server re-exports these without declaring them public: look them up by name.
        dispatcher = getattr(moto_server, "DomainDispatcherApplication")
        backend_app = getattr(moto_server, "create_backend_app")
        make_server = getattr(moto_server, "make_server")  # werkzeug's
        handler = getattr(moto_server, "MotoRequestHandler")
    except (ImportError, AttributeError):  # pragma: no cover - depends on moto's version
        return base

    class SerialisedMotoServer(base):  # type: ignore[misc]  # moto is untyped
        def _server_entry(self) -> None:
            app = dispatcher(backend_app)
            lock = threading.Lock()

            def serialised(environ: Any, start_response: Any) -> Any:
                with lock:  # the body is produced inside the lock too
                    return list(app(environ, start_response))

            self._server = make_server(
                self._ip_address, self._port, serialised, True, request_handler=handler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerialisedMotoServer


class LocalServerError(RuntimeError):
    """A local server could not be found, started or stopped."""


def find_dynalite(
    environ: Mapping[str, str] | None = None,
    checkout_root: Path | None = None,
    search_path: str | None = None,
) -> list[str]:
    """Return the command that runs dynalite, or raise LocalServerError saying how to get it.

    Looked for in order: the ``FLYWHEEL_DYNALITE`` environment variable (taken as given), the
    checkout's ``node_modules/.bin/dynalite``, then ``dynalite`` on PATH. The last two are
    Node scripts, so ``node`` must be on PATH too. The arguments exist for tests; by default
    they are the process environment, this checkout and ``$PATH``.
    """
    environ = os.environ if environ is None else environ
    checkout_root = _CHECKOUT_ROOT if checkout_root is None else checkout_root
    search_path = environ.get("PATH", os.defpath) if search_path is None else search_path

    explicit = environ.get("FLYWHEEL_DYNALITE")
    if explicit:
        # The user chose this command; it may be a wrapper that brings its own Node.
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return [explicit]
        resolved = shutil.which(explicit, path=search_path)
        if resolved is None:
            raise LocalServerError(
                f"FLYWHEEL_DYNALITE={explicit!r} is not an executable file; "
                f"{DYNALITE_INSTALL_HINT}"
            )
        return [resolved]

    candidate = checkout_root / "node_modules" / ".bin" / "dynalite"
    found = str(candidate) if candidate.is_file() else shutil.which("dynalite", path=search_path)
    node = shutil.which("node", path=search_path)
    if found is not None and not _is_node_script(found):
        return [found]  # a native build or a wrapper that finds its own runtime
    if found is None:
        missing = "neither Node.js nor dynalite was found" if node is None else "dynalite was not found"
        raise LocalServerError(
            f"{missing} (looked in {candidate} and on PATH); {DYNALITE_INSTALL_HINT}"
        )
    if node is None:
        raise LocalServerError(
            f"found dynalite at {found} but no `node` on PATH to run it; {DYNALITE_INSTALL_HINT}"
        )
    # Run the script with the node we found rather than trusting its `#!/usr/bin/env node`,
    # so the error above is the only way a missing Node can show up.
    return [node, found]


def _is_node_script(path: str) -> bool:
    """Whether node must run the file: a ``.js`` file, or a ``#!`` line naming node (npm's
    bin links are such). Anything else is run as it is."""
    if path.endswith(".js"):
        return True
    try:
        with open(path, "rb") as script:
            first_line = script.readline(200)
    except OSError:
        return True  # let the error from running it through node speak
    return first_line.startswith(b"#!") and b"node" in first_line


def _free_port(host: str) -> int:
    """A port that nothing listens on right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _refuse_busy_port(kind: str, host: str, port: int) -> None:
    """LocalServerError if another program serves on ``port``, or holds it without serving:
    a server started there would fail to bind (moto would then wait forever, and dynalite's
    exit could go unnoticed while the other program answers)."""
    busy = _port_answers(host, port)
    if not busy:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                busy = True
    if busy:
        raise LocalServerError(f"cannot start {kind} on {host}:{port}: the port is in use")


class LocalServer:
    """A DynamoDB-compatible server on this machine, started and stopped by this object.

    ``LocalServer(kind)`` only describes the server; ``start()`` (or entering a ``with``
    block) starts it and ``stop()`` (or leaving the block) stops it. ``port=None`` picks a
    free port. ``startup_timeout`` bounds how long ``start()`` waits for the port to answer.
    """

    def __init__(
        self,
        kind: ServerKind | str = "moto",
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 30.0,
        log_requests: bool = False,
    ) -> None:
        if kind not in SERVER_KINDS:
            raise ValueError(f"unknown local server kind {kind!r}; expected one of {SERVER_KINDS}")
        self.kind: ServerKind = "dynalite" if kind == "dynalite" else "moto"
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self.startup_timeout = startup_timeout
        self.log_requests = log_requests
        self._moto: Any = None  # moto.server.ThreadedMotoServer, typed loosely: moto is optional
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._lock = threading.Lock()

    # -- addresses ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise LocalServerError(f"the {self.kind} server is not running; call start() first")
        return self._port

    @property
    def endpoint(self) -> str:
        """The URL to give a DynamoDB client, e.g. ``'http://127.0.0.1:54321'``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._port is not None

    def __repr__(self) -> str:
        where = self.endpoint if self.running else "stopped"
        return f"LocalServer({self.kind!r}, {where})"

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> Self:
        with self._lock:
            if self._port is not None:
                raise LocalServerError(f"{self!r} is already running")
            _RUNNING.add(self)
            try:
                if self.kind == "moto":
                    self._start_moto()
                else:
                    self._start_dynalite()
            except BaseException:
                self._stop_unlocked()
                raise
        log.debug("started %r", self)
        return self

    def stop(self) -> None:
        """Stop the server; safe to call more than once, and on a server never started."""
        with self._lock:
            self._stop_unlocked()

    def connect(self, **kwargs: Any) -> DynamoDBConnection:
        """A flywheel DynamoDBConnection to this server (extra arguments go to connect_to_host)."""
        from .connection import DynamoDBConnection

        return DynamoDBConnection.connect_to_host(host=self.host, port=self.port, **kwargs)

    def __enter__(self) -> Self:
        # A server already started (say by connect_local) is adopted: the block stops it.
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- moto -----------------------------------------------------------------------------
    def _start_moto(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise ImportError(f"{MOTO_INSTALL_HINT} ({exc})") from exc
        port = 0 if self._requested_port is None else self._requested_port
        if port:
            _refuse_busy_port("moto", self.host, port)
        if not self.log_requests:
            # Werkzeug logs every request to stderr unless its logger is configured; quiet it
            # only when nobody else has chosen a level.
            werkzeug_log = logging.getLogger("werkzeug")
            if werkzeug_log.level == logging.NOTSET:
                werkzeug_log.setLevel(logging.WARNING)
        server = _serialised_moto_server(ThreadedMotoServer)(
            ip_address=self.host, port=port, verbose=False
        )
        server.start()
        self._moto = server
        self._port = int(server.get_host_and_port()[1])

    def _stop_moto(self) -> None:
        server, self._moto = self._moto, None
        if server is None:
            return
        server.stop()
        # ThreadedMotoServer.stop() ends serve_forever() but leaves the socket open.
        wsgi_server = getattr(server, "_server", None)
        if wsgi_server is not None:
            wsgi_server.server_close()

    # -- dynalite -------------------------------------------------------------------------
    def _start_dynalite(self) -> None:
        command = find_dynalite()
        # dynalite cannot be told to pick a port itself (it treats 0 as "use 4567"), so pick
        # one here; another process may grab it in between, hence a few tries.
        attempts = 1 if self._requested_port is not None else 3
        if self._requested_port is not None:
            _refuse_busy_port("dynalite", self.host, self._requested_port)
        for attempt in range(1, attempts + 1):
            port = self._requested_port or _free_port(self.host)
            try:
                self._spawn_dynalite(command, port)
                return
            except LocalServerError:
                if attempt == attempts or self._process_output().find(b"EADDRINUSE") < 0:
                    raise
                self._stop_dynalite()

    def _spawn_dynalite(self, command: Sequence[str], port: int) -> None:
        argv = [
            *command,
            "--host", self.host,
            "--port", str(port),
            "--createTableMs", "0",
            "--deleteTableMs", "0",
            "--updateTableMs", "0",
        ]
        # A file, not a pipe: nobody reads the output while the server runs, and a full pipe
        # would block it.
        self._output = tempfile.TemporaryFile(prefix="flywheel-dynalite-")  # noqa: SIM115 - closed in _stop_dynalite
        try:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT
            )
        except OSError as exc:
            raise LocalServerError(
                f"could not run {' '.join(argv)}: {exc}; {DYNALITE_INSTALL_HINT}"
            ) from exc
        deadline = time.monotonic() + self.startup_timeout
        while True:
            exit_code = self._process.poll()
            if exit_code is not None:
                raise LocalServerError(
                    f"dynalite exited with code {exit_code} before listening on "
                    f"{self.host}:{port}; command: {' '.join(argv)}; output:\n"
                    + self._process_output().decode(errors="replace")
                )
            if _port_answers(self.host, port):
                self._port = port
                return
            if time.monotonic() > deadline:
                raise LocalServerError(
                    f"dynalite did not answer on {self.host}:{port} within "
                    f"{self.startup_timeout:g}s; command: {' '.join(argv)}; output:\n"
                    + self._process_output().decode(errors="replace")
                )
            time.sleep(0.05)

    def _process_output(self) -> bytes:
        if self._output is None:
            return b""
        self._output.flush()
        self._output.seek(0)
        return self._output.read()[-8000:]

    def _stop_dynalite(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        output, self._output = self._output, None
        if output is not None:
            output.close()

    def _stop_unlocked(self) -> None:
        try:
            if self.kind == "moto":
                self._stop_moto()
            else:
                self._stop_dynalite()
        finally:
            self._port = None
            _RUNNING.discard(self)
            log.debug("stopped %s server", self.kind)


# Servers still running when the interpreter exits (a forgotten stop(), an uncaught error in
# a demo) are stopped then, so no dynalite process outlives us.
_RUNNING: set[LocalServer] = set()


@atexit.register
def _stop_all_at_exit() -> None:
    for server in list(_RUNNING):
        try:
            server.stop()
        except Exception:
            log.exception("could not stop %r at exit", server)


def connect_local(kind: ServerKind | str = "moto", **kwargs: Any) -> tuple[LocalServer, DynamoDBConnection]:
    """Start a local server and return it with a DynamoDBConnection to it.

    The caller owns the server and must ``stop()`` it (or use it in a ``with`` block)::

        server, dynamo = connect_local()
        with server:
            engine = Engine(dynamo)
    """
    server = LocalServer(kind).start()
    try:
        return server, server.connect(**kwargs)
    except BaseException:
        server.stop()
        raise
