"""A tiny progress bar for long loads, written to stderr.

On a terminal it redraws one line in place, at most ``refreshes_per_second`` times a second
(redrawing on every item would cost more than the work it reports). When stderr is not a
terminal (a log file, CI), carriage returns would make a mess, so it prints a plain line now
and then instead: at most one every ``log_interval`` seconds, plus the final one.
"""
from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress", "format_rate"]


def format_rate(count: int, seconds: float) -> str:
    """'12,345 items/s' (or '-' when no time has passed)."""
    if seconds <= 0:
        return "- items/s"
    return f"{count / seconds:,.0f} items/s"


class Progress:
    """Counts items done out of ``total`` and shows it; use as a context manager::

        with Progress("flights", total=len(batch)) as bar:
            for chunk in chunks:
                save(chunk)
                bar.advance(len(chunk))
    """

    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream: TextIO | None = None,
        width: int = 30,
        refreshes_per_second: float = 10.0,
        log_interval: float = 5.0,
        enabled: bool = True,
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.enabled = enabled
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty is not None and isatty())
        self.min_interval = 1.0 / refreshes_per_second if self.interactive else log_interval
        self.done = 0
        self.started = time.perf_counter()
        self.finished_at: float | None = None
        # A terminal shows the bar at once; a log gets its first line after an interval (a
        # short load then prints just its final line).
        self._last_shown = float("-inf") if self.interactive else self.started
        self._shown_width = 0

    @property
    def elapsed(self) -> float:
        end = self.finished_at if self.finished_at is not None else time.perf_counter()
        return end - self.started

    @property
    def rate(self) -> float:
        """Items per second so far."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self._last_shown >= self.min_interval:
            self._last_shown = now
            self._show(final=False)

    def finish(self) -> None:
        if self.finished_at is None:
            self.finished_at = time.perf_counter()
            self._show(final=True)

    def line(self) -> str:
        """The text shown: label, bar, counts, percentage and rate."""
        fraction = self.done / self.total if self.total else 1.0
        fraction = min(fraction, 1.0)
        filled = round(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        return (
            f"{self.label:<9} [{bar}] {self.done:>7,}/{self.total:,} {fraction:4.0%} "
            f"{format_rate(self.done, self.elapsed)}"
        )

    def _show(self, final: bool) -> None:
        if not self.enabled:
            return
        if self.interactive:
            # Pad to the last line's length: a shorter line must not leave its tail behind.
            text = self.line()
            padded, self._shown_width = text.ljust(self._shown_width), len(text)
            self.stream.write("\r" + padded + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish()
        elif self.enabled and self.interactive:
            self.stream.write("\n")  # leave the partial bar visible above the error
            self.stream.flush()
