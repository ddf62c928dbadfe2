"""The table commands of the ``flywheel`` command line: ``schema create | drop | diff |
migrate``, ``dump`` and ``load``, for the models found in a module (``--models app.models``),
on a server (``--endpoint URL``) or in an AWS region (``--region NAME``), in a namespace.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - imported on use: `flywheel --help` stays fast
    from .engine import Engine
    from .models import Model

__all__ = ["add_table_commands", "find_models"]


class CommandError(Exception):
    """A failure the user can fix; shown as one line."""


def _usage_error(message: str) -> Exception:
    from .cli import UsageError

    return UsageError(message)


# -- arguments ------------------------------------------------------------------------------
def _add_common(parser: argparse.ArgumentParser, endpoint_type: Callable[[str], str]) -> None:
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback when something fails")
    parser.add_argument("--models", metavar="MODULE", action="append", required=True,
                        help="the importable module whose flywheel models to use, e.g. app.models "
                             "(may be repeated); the current directory is on the import path")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--endpoint", metavar="URL", type=endpoint_type,
                       help="a DynamoDB-compatible server, e.g. http://localhost:8000")
    where.add_argument("--region", metavar="NAME",
                       help="DynamoDB in this AWS region, with your AWS credentials")
    parser.add_argument("--namespace", metavar="NS", default=None,
                        help="table name prefix: the tables are NS-Model (default: none)")


def add_table_commands(
    commands: Any, endpoint_type: Callable[[str], str]
) -> None:
    """Add the schema, dump and load commands to the ``flywheel`` subparsers."""
    schema = commands.add_parser(
        "schema", help="create, drop, compare or migrate the tables of your models",
        description="Manage the tables of the flywheel models found in a module.",
    )
    actions = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create", help="create the missing tables",
        description="Create the tables of the models that do not exist yet, and wait until "
                    "they are usable. Existing tables are left as they are (see migrate).",
    )
    _add_common(create, endpoint_type)
    create.add_argument("--dry-run", action="store_true", help="only say which tables would be created")
    create.set_defaults(handler=_schema_create)

    drop = actions.add_parser(
        "drop", help="delete the tables (and their data)",
        description="Delete the tables of the models, with every item in them.",
    )
    _add_common(drop, endpoint_type)
    drop.add_argument("--dry-run", action="store_true", help="only say which tables would be deleted")
    drop.add_argument("--yes", action="store_true", help="really delete: required, as this loses data")
    drop.set_defaults(handler=_schema_drop)

    diff = actions.add_parser(
        "diff", help="show how the live tables differ from the models",
        description="Compare each model with its live table and print the plan: the changes "
                    "`migrate` would make, and the differences it cannot make. Changes nothing.",
    )
    _add_common(diff, endpoint_type)
    diff.add_argument("--check", action="store_true",
                      help="exit with status 3 when the tables differ from the models")
    diff.set_defaults(handler=_schema_diff)

    migrate = actions.add_parser(
        "migrate", help="apply the changes that diff shows",
        description="Create missing tables and global indexes, change throughput, enable TTL "
                    "and streams, as the models declare, waiting for each change. Differences "
                    "DynamoDB cannot make in place (key schema, local indexes...) are listed and "
                    "left alone; then the exit status is 3.",
    )
    _add_common(migrate, endpoint_type)
    migrate.set_defaults(handler=_schema_migrate)

    dump = commands.add_parser(
        "dump", help="copy a model's table to a JSON lines file",
        description="Write every item of a model's table to FILE, one per line, in DynamoDB "
                    "JSON as DynamoDB's export uses ({\"Item\": {...}}, binaries in base64). "
                    "Items are read page by page and written as they come; an interrupted dump "
                    "goes on where it stopped with --resume.",
    )
    _add_common(dump, endpoint_type)
    dump.add_argument("file", metavar="FILE", help="where to write ('-' for standard output)")
    dump.add_argument("--model", metavar="NAME",
                      help="the model whose table to dump (needed when the module has several)")
    dump.add_argument("--resume", action="store_true", help="go on with an interrupted dump")
    dump.add_argument("--page-size", type=_positive, metavar="N", default=None,
                      help="items per Scan request (default: DynamoDB's 1 MB pages)")
    dump.add_argument("--consistent", action="store_true", help="use strongly consistent reads")
    dump.add_argument("--no-progress", dest="progress", action="store_false",
                      help="do not show a progress bar on stderr")
    dump.set_defaults(handler=_dump)

    load = commands.add_parser(
        "load", help="put the items of a JSON lines file into a model's table",
        description="Put every item of FILE (as written by `flywheel dump`) into a model's "
                    "table, creating the table if it is missing. Items with the key of an "
                    "existing item replace it. An interrupted load goes on with --resume.",
    )
    _add_common(load, endpoint_type)
    load.add_argument("file", metavar="FILE", help="the file to read")
    load.add_argument("--model", metavar="NAME",
                      help="the model whose table to fill (needed when the module has several)")
    load.add_argument("--resume", action="store_true", help="go on with an interrupted load")
    load.add_argument("--no-progress", dest="progress", action="store_false",
                      help="do not show a progress bar on stderr")
    load.set_defaults(handler=_load)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


# -- models and engine ------------------------------------------------------------------------
def find_models(module_names: list[str]) -> list[type[Model]]:
    """The Model subclasses defined in or imported into the modules, in order, without repeats."""
    from .models import Model

    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # as `python -m` does: the user's own modules are importable
    found: list[type[Model]] = []
    for name in module_names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise CommandError(f"cannot import the models module {name!r}: {exc}") from exc
        models = [
            value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Model) and value is not Model
        ]
        if not models:
            raise CommandError(f"module {name!r} defines no flywheel models")
        found.extend(model for model in models if model not in found)
    return found


def _engine(args: argparse.Namespace, models: list[type[Model]]) -> Engine:
    from .engine import Engine

    engine = Engine(namespace=args.namespace or ())
    if args.endpoint:
        from .connection import DynamoDBConnection

        engine.connect(DynamoDBConnection.connect_to_endpoint(args.endpoint))
    else:
        engine.connect_to_region(args.region)
    engine.register(*[model for model in models if not model.meta_.abstract])
    return engine


def _one_model(args: argparse.Namespace, models: list[type[Model]]) -> type[Model]:
    concrete = [model for model in models if not model.meta_.abstract]
    if args.model is None:
        if len(concrete) == 1:
            return concrete[0]
        names = ", ".join(model.meta_.name for model in concrete)
        raise _usage_error(f"the models module has several models ({names}): pick one with --model")
    for model in concrete:
        if args.model in (model.meta_.name, model.__name__):
            return model
    names = ", ".join(model.meta_.name for model in concrete)
    raise _usage_error(f"no model named {args.model!r} in the models module; it has {names}")


def _say(text: str) -> None:
    print(text, flush=True)


# -- schema -----------------------------------------------------------------------------------
def _schema_create(args: argparse.Namespace) -> int:
    engine = _engine(args, find_models(args.models))
    created = engine.create_schema(test=args.dry_run)
    verb = "would create" if args.dry_run else "created"
    _say(f"{verb}: {', '.join(created)}" if created else "every table exists already")
    return 0


def _schema_drop(args: argparse.Namespace) -> int:
    if not args.yes and not args.dry_run:
        raise _usage_error("drop deletes the tables and every item in them: add --yes to go ahead")
    engine = _engine(args, find_models(args.models))
    deleted = engine.delete_schema(test=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    _say(f"{verb}: {', '.join(deleted)}" if deleted else "none of the tables exists")
    return 0


def _schema_diff(args: argparse.Namespace) -> int:
    from .cli import EXIT_SCHEMA_DIFFERS

    engine = _engine(args, find_models(args.models))
    plan = engine.update_schema(test=True)
    _say(plan.report())
    return EXIT_SCHEMA_DIFFERS if args.check and not plan.in_sync else 0


def _schema_migrate(args: argparse.Namespace) -> int:
    from .cli import EXIT_SCHEMA_DIFFERS

    engine = _engine(args, find_models(args.models))
    plan = engine.update_schema()
    _say(plan.report())
    return EXIT_SCHEMA_DIFFERS if plan.mismatches else 0


# -- dump and load ----------------------------------------------------------------------------
def _progress(label: str, total: int, enabled: bool) -> Any:
    from .demo.progress import Progress

    return Progress(label, total=total, enabled=enabled)


def _dump(args: argparse.Namespace) -> int:
    from .transfer import TransferError, dump_table

    model = _one_model(args, find_models(args.models))
    engine = _engine(args, [model])
    table = engine.tablename(model)
    description = engine.dynamo.describe_table(table)
    if description is None:
        raise CommandError(f"table {table} (model {model.meta_.name}) does not exist")
    to_stdout = args.file == "-"
    if to_stdout and args.resume:
        raise _usage_error("--resume needs a FILE: standard output cannot be resumed")
    # ItemCount is DynamoDB's estimate (refreshed about every six hours): the bar is a guide.
    total = int(description.get("ItemCount", 0))
    try:
        with _progress(model.meta_.name, total, args.progress) as bar:
            report = dump_table(
                engine.dynamo, table, None if to_stdout else Path(args.file),
                stream=sys.stdout.buffer if to_stdout else None, resume=args.resume,
                page_size=args.page_size, consistent=args.consistent, progress=bar,
            )
    except TransferError as exc:
        raise CommandError(str(exc)) from exc
    if not to_stdout:
        how = "resumed, " if report.resumed else ""
        print(f"dumped {report.items:,} items of {table} to {args.file} ({how}{report.seconds:.1f}s)",
              file=sys.stderr)
    return 0


def _load(args: argparse.Namespace) -> int:
    from .transfer import TransferError, count_lines, load_table

    model = _one_model(args, find_models(args.models))
    source = Path(args.file)
    if not source.is_file():
        raise CommandError(f"no such file: {source}")
    engine = _engine(args, [model])
    table = engine.tablename(model)
    created = engine.create_schema()
    if created:
        print(f"created table {table}", file=sys.stderr)
    try:
        with _progress(model.meta_.name, count_lines(source), args.progress) as bar:
            report = load_table(
                engine.dynamo, table, model.meta_.key_names, source, resume=args.resume, progress=bar
            )
    except TransferError as exc:
        raise CommandError(str(exc)) from exc
    how = f", {report.skipped:,} done by the interrupted run" if report.resumed else ""
    print(f"loaded {report.items:,} items into {table} ({report.seconds:.1f}s{how})", file=sys.stderr)
    return 0
