"""A local HTTP endpoint that answers DynamoDB requests instantly with pre-built bytes.

Run as its own process (``python canned_server.py``: it prints its port, then serves until
stdin closes), so that its CPU never competes with the client being measured for the GIL.
Every response is built before the first request; answering is a dictionary look-up and one
socket write (asyncio, HTTP/1.1 keep-alive), so a round trip measures the client.

What it answers, by operation and table name (``TableName`` in the body):

* GetItem — ``{"Item": <item 0>}``.
* Query / Scan — table ``bench`` / ``pbench``: ``QUERY_ITEMS`` items in pages of
  ``QUERY_PAGE`` (flywheel's / PynamoDB's format); table ``mem-bench`` / ``pmem``: ``MEMORY_PAGES`` pages of
  1,000 items. The page asked for is read from ``ExclusiveStartKey`` (``sk = 'page-N'``).
* BatchWriteItem — ``{"UnprocessedItems": {}}``; anything else — ``{}``.
"""
from __future__ import annotations

import asyncio
import json
import re
import sys
import zlib
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_data

QUERY_ITEMS = 1000
QUERY_PAGE = 250
MEMORY_PAGES = 200
MEMORY_PAGE = 1000

_TABLE = re.compile(rb'"TableName"\s*:\s*"([^"]+)"')
_PAGE = re.compile(rb"page-(\d+)")


def http_response(payload: bytes) -> bytes:
    crc = zlib.crc32(payload) & 0xFFFFFFFF
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"Content-Length: {len(payload)}\r\nx-amzn-RequestId: canned\r\nx-amz-crc32: {crc}\r\n\r\n"
    )
    return head.encode("ascii") + payload


def paged(page_items: list[bytes]) -> list[bytes]:
    """One response per page; all but the last carry a LastEvaluatedKey naming the next."""
    responses = []
    for number, items_json in enumerate(page_items):
        tail = b""
        if number < len(page_items) - 1:
            tail = b',"LastEvaluatedKey":{"pk":{"S":"p"},"sk":{"S":"page-%d"}}' % (number + 1)
        count = items_json.count(b'"pk":')
        responses.append(
            http_response(
                b'{"Items":%s,"Count":%d,"ScannedCount":%d%s}' % (items_json, count, count, tail)
            )
        )
    return responses


def compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def build_responses() -> tuple[dict[bytes, list[bytes]], dict[bytes, bytes]]:
    """(pages by table, GetItem answer by table)."""
    logical = bench_data.logical_items(QUERY_ITEMS)
    formats = {
        b"bench": bench_data.flywheel_items(logical),
        b"pbench": bench_data.pynamodb_items(logical),
    }
    pages: dict[bytes, list[bytes]] = {}
    get_item: dict[bytes, bytes] = {}
    for table, items in formats.items():
        pages[table] = paged(
            [compact(items[start : start + QUERY_PAGE]) for start in range(0, QUERY_ITEMS, QUERY_PAGE)]
        )
        get_item[table] = http_response(compact({"Item": items[0]}))
        # the memory workload: MEMORY_PAGES pages of the same MEMORY_PAGE items
        pages[b"mem-bench" if table == b"bench" else b"pmem"] = paged(
            [compact(items[:MEMORY_PAGE])] * MEMORY_PAGES
        )
    return pages, get_item


class CannedProtocol(asyncio.Protocol):
    # filled once by serve() before the first connection; read-only afterwards
    pages: ClassVar[dict[bytes, list[bytes]]] = {}
    get_item: ClassVar[dict[bytes, bytes]] = {}
    empty = http_response(b"{}")
    batch_write = http_response(b'{"UnprocessedItems":{}}')

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            match = re.search(rb"content-length:\s*(\d+)", head)
            length = int(match.group(1)) if match else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            target = re.search(rb"x-amz-target:\s*dynamodb_20120810\.(\w+)", head)
            self.transport.write(self.answer(target.group(1) if target else b"", body))

    def answer(self, operation: bytes, body: bytes) -> bytes:
        table_match = _TABLE.search(body)
        table = table_match.group(1) if table_match else b""
        if operation in (b"query", b"scan"):
            pages = self.pages.get(table) or self.pages[b"bench"]
            page = _PAGE.search(body)
            return pages[int(page.group(1)) if page else 0]
        if operation == b"getitem":
            return self.get_item.get(table) or self.get_item[b"bench"]
        if operation == b"batchwriteitem":
            return self.batch_write
        return self.empty


async def serve() -> None:
    CannedProtocol.pages, CannedProtocol.get_item = build_responses()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(CannedProtocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    # serve until the parent closes our stdin
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(serve())
