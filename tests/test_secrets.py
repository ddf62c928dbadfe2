"""Credentials never leak: not into logs (at any level), reprs, exception messages or
tracebacks. Sentinel credentials sign a whole session of operations — successes, a conflict,
a server-side error, retried faults and a final failure — with every logger at DEBUG, and
then every captured byte is searched for them.

Also: flywheel's own code never evaluates or unpickles stored data (a static check).
"""
from __future__ import annotations

import ast
import io
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy, FaultRates

import flywheel
from flywheel import CheckFailed, DynamoDBConnection, Engine, Field, Model
from flywheel.exceptions import DynamoDBError

ACCESS_KEY = "AKIASENTINEL7ACCESS0"
SECRET_KEY = "sentinel/Secret+Key/0123456789abcdefSECRET"
SESSION_TOKEN = "SentinelSessionToken//0123456789+TOKEN=="
#: flywheel's own output must not hold any of them (the access key id included)
SENTINELS = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)


class Vault(Model):
    __metadata__ = {"_name": "SecretsVault"}
    id = Field(hash_key=True)
    count = Field(data_type=int)
    note = Field()


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """(everything logged by any logger, what flywheel's own logger wrote), at DEBUG."""
    everything, flywheel_only = io.StringIO(), io.StringIO()
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    all_handler = logging.StreamHandler(everything)
    own_handler = logging.StreamHandler(flywheel_only)
    for handler in (all_handler, own_handler):
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(formatter)
    root = logging.getLogger()
    own = logging.getLogger("flywheel")
    levels = {name: logging.getLogger(name).level for name in ("", "flywheel", "botocore", "urllib3")}
    root.addHandler(all_handler)
    own.addHandler(own_handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield everything, flywheel_only
    finally:
        root.removeHandler(all_handler)
        own.removeHandler(own_handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _describe(exc: BaseException) -> str:
    """Everything a user might print about an exception."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for name in ("message", "code", "operation", "table", "response", "unprocessed", "written"):
        parts.append(repr(getattr(exc, name, None)))
    return "\n".join(parts)


def run_session(engine: Engine, proxy: FaultProxy) -> list[str]:
    """A session of operations that succeed, conflict, fail at the server and fail after
    retries; returns the text of every repr and error seen."""
    seen: list[str] = [repr(engine), repr(engine.dynamo), str(engine.dynamo.__dict__)]
    engine.register(Vault)
    engine.create_schema()
    vault = Vault("v1", count=1, note="hello")
    engine.save(vault)
    engine.save([Vault(f"b{n}", count=n) for n in range(30)])
    vault.incr_(count=2)
    vault.sync()
    seen += [repr(vault), str(vault.__dict__)]
    assert engine.get(Vault, id="v1").count == 3
    assert len(engine.scan(Vault).all()) == 31
    assert len(engine.query(Vault).filter(id="v1").all()) == 1
    failures: list[BaseException] = []
    try:
        engine.save(Vault("v1"), overwrite=False)
    except CheckFailed as exc:
        failures.append(exc)
    try:  # a server-side validation error
        engine.dynamo.call("GetItem", {"TableName": engine.tablename(Vault), "Key": {"nope": {"S": "x"}}})
    except DynamoDBError as exc:
        failures.append(exc)
    proxy.set_rates(FaultRates(throttle=0.5, server_error=0.2, drop_before=0.1))
    engine.get(Vault, [f"b{n}" for n in range(30)])
    proxy.set_rates(FaultRates(throttle=1.0))
    try:
        engine.save([Vault(f"c{n}") for n in range(3)])
    except DynamoDBError as exc:
        failures.append(exc)
    proxy.set_rates(FaultRates())
    engine.delete_key(Vault, [f"b{n}" for n in range(30)])
    engine.delete_schema()
    assert len(failures) == 3, failures
    seen += [_describe(exc) for exc in failures]
    return seen


@pytest.mark.parametrize("transport", ["botocore", "fast"])
def test_credentials_never_appear_in_logs_reprs_or_errors(
    transport: str, local_server: Any, namespace: str, captured: tuple[io.StringIO, io.StringIO]
) -> None:
    if not local_server.endpoint.startswith("http://"):
        pytest.skip("needs a local server to sign sentinel credentials for")
    everything, flywheel_only = captured
    with FaultProxy(local_server.endpoint, seed=3) as proxy:
        connection = DynamoDBConnection.connect_to_host(
            proxy.url,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            session_token=SESSION_TOKEN,
            transport=transport,
            max_attempts=4,
            backoff_base=0.001,
            backoff_cap=0.005,
        )
        engine = Engine(connection, namespace=[namespace])
        seen = run_session(engine, proxy)
    # The session really was signed with the sentinels (else the test proves nothing).
    assert connection.client._request_signer._credentials.access_key == ACCESS_KEY

    own_log = flywheel_only.getvalue()
    assert "retrying" in own_log  # flywheel did log, at DEBUG, through the faults
    for sentinel in SENTINELS:
        assert sentinel not in own_log, f"flywheel logged {sentinel!r}"
        for text in seen:
            assert sentinel not in text, f"{sentinel!r} in {text[:200]!r}"
    # botocore, at DEBUG, logs request headers (the access key id in Authorization, and the
    # session token); it never logs the secret key, and neither does anything else.
    assert SECRET_KEY not in everything.getvalue()


def test_flywheel_never_evaluates_or_unpickles_data() -> None:
    """No module calls eval/exec/compile or imports a deserialiser that runs code."""
    source_root = Path(flywheel.__file__).parent
    unsafe_modules = {"pickle", "cPickle", "dill", "marshal", "shelve", "yaml", "jsonpickle"}
    offenders = []
    for path in sorted(source_root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(source_root)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("eval", "exec", "compile", "__import__"):
                    offenders.append(f"{where}: {node.func.id}()")
            elif isinstance(node, ast.Import):
                offenders += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] in unsafe_modules]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in unsafe_modules:
                offenders.append(f"{where}: from {node.module} import ...")
    assert not offenders, offenders
