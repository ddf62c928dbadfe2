"""Parallel scans: read a table's segments in threads (DynamoDB's Segment / TotalSegments).

DynamoDB splits a table into ``TotalSegments`` disjoint segments; a Scan with ``Segment=i``
pages through segment ``i`` only, so scanning every segment returns every item exactly once.
:func:`parallel_scan_pages` runs those scans in worker threads and yields their pages, in
whatever order they arrive, to the one consuming thread.

Why the shape is what it is:

* Workers hand pages over through a bounded queue, so at most a few pages per worker are in
  memory however fast the server is and however slow the consumer.
* A failure in a worker is re-raised in the consumer (the first one wins), and the other
  workers are stopped: nothing is swallowed, nothing keeps running.
* The consumer stopping early (``break``, an exception, ``close()``) stops the workers at
  their next page and joins them before the generator finishes closing, so no thread
  outlives the iteration. A worker in the middle of a request finishes that request first.
* There are never more threads than the HTTP connection pool has connections (botocore's
  ``max_pool_connections``, 10 by default): more would only queue for a connection. With
  more segments than threads, each thread takes the next unread segment when it is done.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["MAX_SEGMENTS", "check_segments", "parallel_scan_pages", "scan_threads"]

#: DynamoDB's limit on TotalSegments.
MAX_SEGMENTS = 1_000_000
#: Pages each worker may have waiting for the consumer.
PAGES_PER_WORKER = 2
# How often a blocked worker looks again at the stop flag.
_POLL_SECONDS = 0.05
_DEFAULT_POOL = 10


class _WorkerDone:
    """Queued by a worker when it has no segment left."""


class _WorkerFailed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def check_segments(segments: Any) -> int:
    """``segments`` as an int in 1..MAX_SEGMENTS, or TypeError/ValueError saying why not."""
    if isinstance(segments, bool) or not isinstance(segments, int):
        raise TypeError(f"segments must be an int, not {segments!r}")
    if not 1 <= segments <= MAX_SEGMENTS:
        raise ValueError(f"segments must be between 1 and {MAX_SEGMENTS}, got {segments}")
    return segments


def scan_threads(connection: Any, segments: int) -> int:
    """How many threads to scan ``segments`` segments with through ``connection``."""
    client = getattr(connection, "client", None)
    config = getattr(getattr(client, "meta", None), "config", None)
    pool = getattr(config, "max_pool_connections", None) or _DEFAULT_POOL
    return max(1, min(segments, int(pool)))


def parallel_scan_pages(
    connection: Any, request: dict[str, Any], segments: int, threads: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield every page of the Scan ``request`` over ``segments`` segments, read in threads.

    ``connection`` is a DynamoDBConnection (its ``paginate`` follows LastEvaluatedKey);
    ``request`` is not changed. Close the generator (or let a ``for`` loop end) to stop.
    """
    check_segments(segments)
    if threads is None:
        threads = scan_threads(connection, segments)
    threads = max(1, min(threads, segments))
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for segment in range(segments):
        todo.put(segment)
    pages: queue.Queue[Any] = queue.Queue(maxsize=threads * PAGES_PER_WORKER)
    stop = threading.Event()

    def hand_over(message: Any) -> bool:
        """Queue ``message`` for the consumer; False once the consumer has stopped."""
        while not stop.is_set():
            try:
                pages.put(message, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    segment = todo.get_nowait()
                except queue.Empty:
                    break
                segment_request = dict(request, Segment=segment, TotalSegments=segments)
                for page in connection.paginate("Scan", segment_request):
                    if not hand_over(page):
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            hand_over(_WorkerFailed(exc))
            return
        hand_over(_WorkerDone())

    workers = [
        threading.Thread(target=work, name=f"flywheel-scan-{number}", daemon=True)
        for number in range(threads)
    ]
    return _consume(workers, pages, stop)


def _consume(
    workers: list[threading.Thread], pages: queue.Queue[Any], stop: threading.Event
) -> Iterator[dict[str, Any]]:
    # A generator: the threads start at the first next(), not when the scan is built.
    for worker in workers:
        worker.start()
    try:
        running = len(workers)
        while running:
            message = pages.get()
            if isinstance(message, _WorkerDone):
                running -= 1
            elif isinstance(message, _WorkerFailed):
                raise message.error
            else:
                yield message
    finally:
        stop.set()
        for worker in workers:
            worker.join()
