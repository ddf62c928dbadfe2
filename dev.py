#!/usr/bin/env python3
"""Developer commands for flywheel, working from a fresh clone with nothing but Python >= 3.10
(and Node >= 20 for the dynalite test leg):

    python3 dev.py demo [demo args]        run the demo against an embedded server
    python3 dev.py test [options] [pytest args]
                                           run the tests on moto, then on dynalite, then mypy,
                                           then build the docs site (mkdocs build --strict)
    python3 dev.py setup                   only prepare .venv and node_modules

Options of `test`:
    --server moto|dynalite   run only that server's leg (no mypy, no docs)
    --no-mypy                skip the mypy leg
    --no-docs                skip the docs leg
    --                       everything after goes to pytest verbatim

Each command first makes sure that .venv exists (stdlib venv), that the project is installed in
it (editable, with the extras the command needs; re-installed only when pyproject.toml
changes), and, when Node is present, that dynalite is installed in node_modules (npm ci).
Environment: FLYWHEEL_LEG_TIMEOUT (seconds per test leg, default 1200).
"""
from __future__ import annotations

import sys

if sys.version_info < (3, 10):  # noqa: UP036 - before any newer syntax, so old Pythons get this message
    sys.exit(f"flywheel needs Python >= 3.10; this is {sys.version.split()[0]} ({sys.executable})")

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
INSTALL_STAMP = VENV / ".flywheel-install.json"
NODE_MODULES = ROOT / "node_modules"
NPM_STAMP = NODE_MODULES / ".flywheel-install.json"
EXTRAS_FOR = {
    "demo": ("local", "demo"),
    "test": ("local", "demo", "test", "docs"),
    "setup": ("local", "demo", "test", "docs"),
}
SERVER_LEGS = ("moto", "dynalite")
MIN_NODE = 20
# pip learned editable installs of pyproject-only projects (PEP 660) in 21.3; Python 3.10.0
# ships 21.2, so older pips are upgraded first.
MIN_PIP = (21, 3)
PYTEST_CLOSING_LINE = re.compile(r"^=+ (.* in [\d.]+s.*?) =+$")
MYPY_CLOSING_LINE = re.compile(r"^(Success: .*|Found \d+ errors? .*)$")
MKDOCS_CLOSING_LINE = re.compile(r"^(?:INFO\s+-\s+)?(Documentation built in .*|Aborted with .*)$")


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def banner(message: str) -> None:
    line = "!" * 78
    print(f"\n{line}\n[dev] {message}\n{line}\n", flush=True)


class SetupError(Exception):
    """A preparation step failed; the message says what to do."""


def run_quietly(argv: list[str], what: str, cwd: Path = ROOT) -> None:
    """Run a setup command; on failure show its output and stop."""
    started = time.monotonic()
    done = subprocess.run(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        raise SetupError(f"{what} failed (exit {done.returncode}): {' '.join(argv)}")
    say(f"{what}: done in {time.monotonic() - started:.1f}s")


# -- Python side -------------------------------------------------------------------------------
def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def venv_script(name: str) -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / f"{name}.exe"
    return VENV / "bin" / name


def python_runs(python: Path) -> bool:
    if not python.exists():
        return False
    try:
        return subprocess.run([str(python), "-c", "pass"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def ensure_venv() -> None:
    python = venv_python()
    if python_runs(python):
        return
    if VENV.exists():
        # Its interpreter is gone (Python upgraded or removed): nothing in it can be used.
        say(f"{VENV} is broken (its python does not run); recreating it")
        shutil.rmtree(VENV)
    say(f"creating {VENV} with {sys.executable} (Python {sys.version.split()[0]})")
    try:
        run_quietly([sys.executable, "-m", "venv", str(VENV)], "create virtualenv")
    except SetupError as exc:
        raise SetupError(
            f"{exc}\n(on Debian/Ubuntu, `apt-get install python3-venv` provides the venv module)"
        ) from exc
    pip_version = subprocess.run(
        [str(python), "-c", "import pip; print(pip.__version__)"], capture_output=True, text=True, check=False
    ).stdout.strip()
    numbers = tuple(int(part) for part in re.findall(r"\d+", pip_version)[:2])
    if numbers < MIN_PIP:
        say(f"pip {pip_version} is too old for editable installs; upgrading it")
        run_quietly(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--upgrade", "pip"],
            "upgrade pip",
        )


def read_stamp(path: Path) -> dict[str, object]:
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def write_stamp(path: Path, stamp: dict[str, object]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(stamp, indent=1, sort_keys=True))
    temporary.replace(path)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_project_installed(extras: tuple[str, ...]) -> None:
    """pip install -e '.[extras]' unless the stamp says that this pyproject.toml, with at least
    these extras, is already installed from this checkout."""
    ensure_venv()
    digest = file_digest(ROOT / "pyproject.toml")
    stamp = read_stamp(INSTALL_STAMP)
    same_project = stamp.get("pyproject_sha256") == digest and stamp.get("root") == str(ROOT)
    recorded = stamp.get("extras")
    installed = {str(extra) for extra in recorded} if same_project and isinstance(recorded, list) else set()
    if same_project and set(extras) <= installed:
        say(f"flywheel[{','.join(sorted(installed))}] is installed in .venv and up to date")
        return
    wanted = sorted(installed | set(extras))
    reason = "pyproject.toml changed" if stamp else "first install"
    say(f"installing flywheel[{','.join(wanted)}] into .venv, editable ({reason}; pip is quiet)")
    INSTALL_STAMP.unlink(missing_ok=True)  # an interrupted install must not look complete
    run_quietly(
        [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "-e", f".[{','.join(wanted)}]"],
        "pip install",
    )
    write_stamp(INSTALL_STAMP, {"pyproject_sha256": digest, "extras": wanted, "root": str(ROOT)})


# -- Node side (dynalite) -----------------------------------------------------------------------
def node_unavailable_reason() -> str | None:
    """Why the dynalite leg cannot run on this machine, or None when Node is usable."""
    node = shutil.which("node")
    if node is None:
        return f"Node.js not found on PATH: install Node >= {MIN_NODE} to run the dynalite leg"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major = re.match(r"v?(\d+)", version)
    if major is None or int(major.group(1)) < MIN_NODE:
        return f"Node {version or '(unknown version)'} at {node} is too old: dynalite needs Node >= {MIN_NODE}"
    if shutil.which("npm") is None:
        return f"npm not found on PATH (Node {version} is): install npm to fetch dynalite"
    return None


def ensure_node_tools() -> None:
    """npm ci, unless node_modules already holds what package-lock.json pins."""
    lock = ROOT / "package-lock.json"
    digest = file_digest(lock if lock.exists() else ROOT / "package.json")
    dynalite = NODE_MODULES / ".bin" / "dynalite"
    if dynalite.exists() and read_stamp(NPM_STAMP).get("lock_sha256") == digest:
        say("dynalite is installed in node_modules and up to date")
        return
    npm = shutil.which("npm") or "npm"
    command = "ci" if lock.exists() else "install"
    say(f"installing dynalite into node_modules (npm {command})")
    run_quietly([npm, command, "--no-audit", "--no-fund", "--loglevel=error"], f"npm {command}")
    if not dynalite.exists():
        raise SetupError(f"npm {command} finished but {dynalite} is missing")
    write_stamp(NPM_STAMP, {"lock_sha256": digest})


# -- running things -----------------------------------------------------------------------------
@dataclass
class LegResult:
    name: str
    status: str  # 'passed', 'failed', 'skipped'
    detail: str = ""
    seconds: float = 0.0


def run_streaming(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, bool]:
    """Run a command, echoing its output as it comes; return (exit code, the last line that
    matches a known closing line, whether it timed out)."""
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        # Its own process group, so a timeout can end it with every child it started.
        start_new_session=os.name != "nt",
    )
    timed_out = threading.Event()

    def on_timeout() -> None:
        timed_out.set()
        stop_process_group(process)

    timer = threading.Timer(timeout, on_timeout)
    timer.daemon = True
    timer.start()
    closing = ""
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            sys.stdout.buffer.write(raw)
            sys.stdout.buffer.flush()
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw.decode(errors="replace")).strip()
            match = (
                PYTEST_CLOSING_LINE.match(line) or MYPY_CLOSING_LINE.match(line)
                or MKDOCS_CLOSING_LINE.match(line)
            )
            if match:
                closing = match.group(1)
        code = process.wait()
    except KeyboardInterrupt:
        stop_process_group(process)
        if process.stdout is not None:  # what it printed while stopping (pytest's summary)
            sys.stdout.buffer.write(process.stdout.read())
            sys.stdout.buffer.flush()
        raise
    finally:
        timer.cancel()
    return code, closing, timed_out.is_set()


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    if os.name == "nt":
        process.kill()
        return
    for sig, grace in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def absolutize_paths(args: list[str], cwd: Path) -> list[str]:
    """Pytest runs in the repo root; a path the user gave relative to where they stand is made
    absolute so it still names the same file (node ids like file.py::test keep their suffix)."""
    if cwd == ROOT:
        return args
    result = []
    for arg in args:
        path_part, sep, rest = arg.partition("::")
        if not arg.startswith("-") and path_part and (cwd / path_part).exists():
            arg = str((cwd / path_part).resolve()) + sep + rest
        result.append(arg)
    return result


def leg_timeout() -> float:
    return float(os.environ.get("FLYWHEEL_LEG_TIMEOUT", "1200"))


def run_pytest_leg(server: str, pytest_args: list[str]) -> LegResult:
    env = dict(os.environ, FLYWHEEL_TEST_SERVER=server, PYTHONUNBUFFERED="1")
    env.pop("FLYWHEEL_TEST_ENDPOINT", None)  # each leg tests the server dev.py names
    argv = [str(venv_python()), "-m", "pytest", *pytest_args]
    if sys.stdout.isatty() and not any(arg.startswith("--color") for arg in pytest_args):
        argv.append("--color=yes")  # its output goes through a pipe to us, then to the terminal
    say(f"leg {server}: FLYWHEEL_TEST_SERVER={server} {' '.join(argv[1:])}")
    started = time.monotonic()
    code, closing, timed_out = run_streaming(argv, env, leg_timeout())
    seconds = time.monotonic() - started
    if timed_out:
        return LegResult(server, "failed", f"timed out after {leg_timeout():g}s (FLYWHEEL_LEG_TIMEOUT)", seconds)
    if code == 0:
        return LegResult(server, "passed", closing, seconds)
    if code == 5:
        return LegResult(server, "failed", "no tests ran (pytest exit 5)", seconds)
    return LegResult(server, "failed", f"{closing or 'pytest'} (exit {code})", seconds)


def run_mypy_leg() -> LegResult:
    argv = [str(venv_python()), "-m", "mypy"]  # files and options come from pyproject.toml
    say(f"leg mypy: {' '.join(argv[1:])}")
    started = time.monotonic()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    code, closing, timed_out = run_streaming(argv, env, leg_timeout())
    seconds = time.monotonic() - started
    if timed_out:
        return LegResult("mypy", "failed", f"timed out after {leg_timeout():g}s", seconds)
    return LegResult("mypy", "passed" if code == 0 else "failed", closing or f"exit {code}", seconds)


def run_docs_leg() -> LegResult:
    """Build the docs site strictly (a broken link or API reference fails it) into a
    throw-away directory. Every page's examples run in the pytest legs (tests/test_docs.py)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="flywheel-site-") as site:
        argv = [str(venv_python()), "-m", "mkdocs", "build", "--strict", "--site-dir", site]
        say(f"leg docs: {' '.join(argv[1:])}")
        started = time.monotonic()
        env = dict(os.environ, PYTHONUNBUFFERED="1", NO_MKDOCS_2_WARNING="1")
        code, closing, timed_out = run_streaming(argv, env, leg_timeout())
    seconds = time.monotonic() - started
    if timed_out:
        return LegResult("docs", "failed", f"timed out after {leg_timeout():g}s", seconds)
    return LegResult("docs", "passed" if code == 0 else "failed", closing or f"exit {code}", seconds)


def print_summary(results: list[LegResult]) -> None:
    print(flush=True)
    say("summary")
    for result in results:
        took = f"{result.seconds:6.1f}s" if result.status != "skipped" else " " * 7
        say(f"  {result.name:<9} {result.status.upper():<8} {took}  {result.detail}")


# -- commands -----------------------------------------------------------------------------------
def parse_test_args(args: list[str]) -> tuple[list[str], bool, bool, list[str]]:
    """Split dev.py's own options from pytest's: (server legs, run mypy, build docs, pytest args)."""
    servers = list(SERVER_LEGS)
    mypy = True
    docs = True
    pytest_args: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "--":
            pytest_args.extend(args[position + 1:])
            break
        if arg == "--server" or arg.startswith("--server="):
            if "=" in arg:
                value = arg.split("=", 1)[1]
            elif position + 1 < len(args):
                position += 1
                value = args[position]
            else:
                value = ""
            if value not in SERVER_LEGS:
                raise SystemExit(f"dev.py test: --server takes one of {', '.join(SERVER_LEGS)}, not {value!r}")
            servers, mypy, docs = [value], False, False
        elif arg == "--no-mypy":
            mypy = False
        elif arg == "--no-docs":
            docs = False
        else:
            pytest_args.append(arg)
        position += 1
    return servers, mypy, docs, pytest_args


def command_test(args: list[str]) -> int:
    servers, mypy, docs, pytest_args = parse_test_args(args)
    pytest_args = absolutize_paths(pytest_args, Path.cwd())
    ensure_project_installed(EXTRAS_FOR["test"])
    # Every install happens before the first leg, so the legs' output is not interleaved with it.
    not_runnable: dict[str, LegResult] = {}
    if "dynalite" in servers:
        reason = node_unavailable_reason()
        if reason is not None:
            not_runnable["dynalite"] = LegResult("dynalite", "skipped", reason)
        else:
            try:
                ensure_node_tools()
            except SetupError as exc:
                say(str(exc))
                not_runnable["dynalite"] = LegResult("dynalite", "failed", f"could not install dynalite: {exc}")
    results: list[LegResult] = []
    for server in servers:
        if server in not_runnable:
            result = not_runnable[server]
            if result.status == "skipped":
                banner(f"SKIPPING the {server} leg: {result.detail}")
            results.append(result)
            continue
        results.append(run_pytest_leg(server, pytest_args))
    if mypy:
        results.append(run_mypy_leg())
    if docs:
        results.append(run_docs_leg())
    print_summary(results)
    failed = [result.name for result in results if result.status == "failed"]
    if failed:
        say(f"FAILED: {', '.join(failed)}")
        return 1
    say("all legs passed" + (" (dynalite skipped)" if any(r.status == "skipped" for r in results) else ""))
    return 0


def command_demo(args: list[str]) -> int:
    ensure_project_installed(EXTRAS_FOR["demo"])
    if node_unavailable_reason() is None:
        try:
            ensure_node_tools()  # only needed if the demo is asked to use dynalite
        except SetupError as exc:
            say(f"warning: {exc}; the demo can still use moto")
    flywheel = venv_script("flywheel")
    if not flywheel.exists():
        raise SetupError(f"{flywheel} is missing; is [project.scripts] flywheel declared in pyproject.toml?")
    argv = [str(flywheel), "demo", *args]
    say(" ".join(argv))
    return subprocess.call(argv)  # from the user's cwd: the demo may read or write files there


def command_setup(args: list[str]) -> int:
    ensure_project_installed(EXTRAS_FOR["setup"])
    reason = node_unavailable_reason()
    if reason is None:
        ensure_node_tools()
    else:
        say(f"not installing dynalite: {reason}")
    return 0


COMMANDS = {"demo": command_demo, "test": command_test, "setup": command_setup}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help") or argv[0] not in COMMANDS:
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help", "help") else 2
    started = time.monotonic()
    try:
        code = COMMANDS[argv[0]](argv[1:])
    except SetupError as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    say(f"{argv[0]} took {time.monotonic() - started:.1f}s")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
