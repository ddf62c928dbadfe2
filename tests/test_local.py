"""flywheel.local: starting and stopping the embedded DynamoDB-compatible servers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import botocore.session
import pytest

from flywheel.local import (
    DYNALITE_INSTALL_HINT,
    LocalServer,
    LocalServerError,
    connect_local,
    find_dynalite,
)


def _dynalite_available() -> bool:
    try:
        find_dynalite()
    except LocalServerError:
        return False
    return True


# On the dynalite leg a missing dynalite is a failure; elsewhere it only skips those tests.
needs_dynalite = pytest.mark.skipif(
    not _dynalite_available() and os.environ.get("FLYWHEEL_TEST_SERVER") != "dynalite",
    reason=f"dynalite unavailable: {DYNALITE_INSTALL_HINT}",
)
BOTH_KINDS = [pytest.param("moto"), pytest.param("dynalite", marks=needs_dynalite)]


def _list_tables(endpoint: str) -> list[str]:
    """ListTables over real HTTP with botocore, independent of flywheel's own wire layer."""
    client = botocore.session.get_session().create_client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    try:
        return list(client.list_tables()["TableNames"])
    finally:
        client.close()


def _port_is_free(host: str, port: int) -> bool:
    """Whether a new server could listen on the port (SO_REUSEADDR: ignore TIME_WAIT left by
    the test's own requests; Linux still refuses while anything listens)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen()
        except OSError:
            return False
    return True


def _fake_executable(directory: Path, name: str, body: str) -> Path:
    """A stand-in for the dynalite command: a Python script, so it needs nothing from PATH."""
    path = directory / name
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("kind", BOTH_KINDS)
def test_start_answer_and_stop(kind: str) -> None:
    with LocalServer(kind) as server:  # type: ignore[arg-type]
        assert server.running
        assert server.kind == kind
        assert server.host == "127.0.0.1"
        assert server.endpoint == f"http://127.0.0.1:{server.port}"
        tables = _list_tables(server.endpoint)
        # moto keeps one store per process, shared with any other moto server in this run.
        assert tables == [] if kind == "dynalite" else isinstance(tables, list)
        port = server.port
    assert not server.running
    assert _port_is_free("127.0.0.1", port)
    with pytest.raises(LocalServerError, match="not running"):
        server.port  # noqa: B018 - the property access is what is tested


@pytest.mark.parametrize("kind", BOTH_KINDS)
def test_error_inside_block_still_stops_server(kind: str) -> None:
    server = LocalServer(kind)
    process = None
    with pytest.raises(ZeroDivisionError), server:
        port = server.port
        process = server._process  # dynalite's child process; None for moto
        1 / 0  # noqa: B018
    assert not server.running
    assert _port_is_free("127.0.0.1", port)
    if kind == "dynalite":
        assert process is not None and process.poll() is not None


def test_two_servers_at_once_get_their_own_ports() -> None:
    with LocalServer("moto") as first, LocalServer("moto") as second:
        assert first.port != second.port
        assert isinstance(_list_tables(first.endpoint), list)
        assert isinstance(_list_tables(second.endpoint), list)


def test_stop_is_idempotent_and_start_twice_is_an_error() -> None:
    server = LocalServer("moto")
    server.stop()  # never started: nothing to do
    server.start()
    try:
        with pytest.raises(LocalServerError, match="already running"):
            server.start()
    finally:
        server.stop()
    server.stop()
    assert not server.running


def test_connect_local_hands_over_a_started_server() -> None:
    server, dynamo = connect_local("moto")
    with server:
        assert server.running
        assert isinstance(dynamo.list_tables(), list)
    assert not server.running


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="'mongo'"):
        LocalServer("mongo")


def test_missing_moto_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "moto.server", None)  # makes `import moto.server` fail
    with pytest.raises(ImportError, match=r"pip install 'flywheel\[local\]'"):
        LocalServer("moto").start()


def test_missing_dynalite_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(LocalServerError, match="npm install dynalite@4.0.0") as caught:
        find_dynalite(environ={}, checkout_root=tmp_path, search_path=str(tmp_path))
    assert "Node.js" in str(caught.value)


def test_dynalite_without_node_says_node_is_missing(tmp_path: Path) -> None:
    bin_dir = tmp_path / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "dynalite"
    script.write_text("#!/usr/bin/env node\n")
    script.chmod(0o755)
    empty_path = tmp_path / "empty"
    empty_path.mkdir()
    with pytest.raises(LocalServerError, match="no `node` on PATH") as caught:
        find_dynalite(environ={}, checkout_root=tmp_path, search_path=str(empty_path))
    assert "npm install dynalite@4.0.0" in str(caught.value)


def test_flywheel_dynalite_pointing_nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dynalite"
    monkeypatch.setenv("FLYWHEEL_DYNALITE", str(missing))
    with pytest.raises(LocalServerError, match="FLYWHEEL_DYNALITE=.*no-such-dynalite"):
        LocalServer("dynalite").start()


def test_dynalite_that_dies_reports_its_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _fake_executable(
        tmp_path, "dynalite", 'import sys\nprint("boom: cannot open store", file=sys.stderr)\nsys.exit(3)\n'
    )
    monkeypatch.setenv("FLYWHEEL_DYNALITE", str(fake))
    server = LocalServer("dynalite")
    with pytest.raises(LocalServerError, match=r"(?s)exited with code 3.*boom: cannot open store"):
        server.start()
    assert not server.running


def test_dynalite_that_never_listens_is_killed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = _fake_executable(
        tmp_path, "dynalite", f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    monkeypatch.setenv("FLYWHEEL_DYNALITE", str(fake))
    server = LocalServer("dynalite", startup_timeout=0.5)
    with pytest.raises(LocalServerError, match=r"did not answer .* within 0\.5s"):
        server.start()
    assert not server.running
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped by stop(): the process no longer exists


@pytest.mark.parametrize("listening", [True, False], ids=["serving", "bound only"])
@pytest.mark.parametrize("kind", BOTH_KINDS)
def test_a_port_in_use_is_refused(kind: str, listening: bool) -> None:
    """Another program serving on the port, or holding it without serving: start() says so
    at once (moto used to wait forever on a port bound but not listening, and dynalite to
    "start" while the other program answered)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        if listening:
            busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LocalServerError, match=f"cannot start {kind} on 127.0.0.1:{port}.*in use"):
            LocalServer(kind, port=port, startup_timeout=5).start()


def test_dynalite_stopped_when_interpreter_exits(tmp_path: Path) -> None:
    """A server the program forgot to stop does not outlive it."""
    if not _dynalite_available():
        pytest.skip(f"dynalite unavailable: {DYNALITE_INSTALL_HINT}")
    script = textwrap.dedent(
        """
        from flywheel.local import LocalServer
        server = LocalServer('dynalite').start()
        print(server._process.pid, server.port, flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    pid, port = (int(word) for word in done.stdout.split())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert _port_is_free("127.0.0.1", port)
