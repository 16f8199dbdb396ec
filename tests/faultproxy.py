"""A fault-injecting Modbus TCP link: a real asyncio TCP proxy on loopback.

It sits between a poller and a simulated PLC and passes every frame on,
unless a :class:`Fault` is injected. Faults act on whole Modbus TCP frames
(the MBAP header tells where one ends) and mostly on the answers, where a
client can be fooled:

- ``DELAY``: answers arrive ``delay_s`` late (in order);
- ``DROP``: answers are lost;
- ``RESET``: the connection is torn down with a TCP RST (the next request
  on a new connection meets the same fate while the fault lasts);
- ``TRUNCATE``: only the first part of an answer arrives, the rest never does,
  and what follows is out of step;
- ``DUPLICATE``: an answer arrives twice, the copy a moment later (during the
  next request), optionally with its transaction id zeroed as some gateways do;
- ``CORRUPT``: one header field of an answer is garbled (transaction id,
  protocol id, length, unit id, function code, byte count). The payload is
  never touched: Modbus TCP carries no checksum of its own, TCP's checksum
  protects it on a real wire, and no client could tell a flipped data bit;
- ``STALL``: the link goes half-open: nothing passes either way, nothing is
  closed; new connections are accepted and hang too. When the stall ends the
  stalled connections are reset, as the peer's TCP state is gone.

``probability`` applies a per-frame fault (delay, drop, truncate, duplicate,
corrupt) to that share of the answers. Everything is seeded: the same seed
and the same traffic give the same faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CorruptField", "Fault", "FaultKind", "FaultProxy"]

_MBAP = 7  # transaction id (2), protocol id (2), length (2), unit id (1)


class FaultKind(StrEnum):
    DELAY = "delay"
    DROP = "drop"
    RESET = "reset"
    TRUNCATE = "truncate"
    DUPLICATE = "duplicate"
    CORRUPT = "corrupt"
    STALL = "stall"


class CorruptField(StrEnum):
    TRANSACTION_ID = "transaction_id"  # another, non-zero id
    TRANSACTION_ID_ZERO = "transaction_id_zero"
    PROTOCOL_ID = "protocol_id"
    LENGTH = "length"
    UNIT_ID = "unit_id"
    FUNCTION = "function"
    BYTE_COUNT = "byte_count"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    probability: float = 1.0
    delay_s: float = 0.0  # DELAY: how late; DUPLICATE: how much later the copy comes
    field: CorruptField | None = None  # CORRUPT: which field (None: a random one per frame)
    zero_copy_id: bool = False  # DUPLICATE: the copy carries transaction id 0

    def describe(self) -> str:
        extra = []
        if self.kind in (FaultKind.DELAY, FaultKind.DUPLICATE):
            extra.append(f"{self.delay_s * 1000:.0f} ms")
        if self.field is not None:
            extra.append(self.field.value)
        if self.zero_copy_id:
            extra.append("copy with id 0")
        if self.probability < 1:
            extra.append(f"p={self.probability:g}")
        return f"{self.kind.value}({', '.join(extra)})"


@dataclass(eq=False)
class _Connection:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    stalled: bool = False
    tasks: tuple[asyncio.Task[None], ...] = ()
    handler: asyncio.Task[object] | None = None

    def reset(self) -> None:
        """Abort both sides; the client's with an RST (linger 0)."""
        sock = self.client.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.client.transport.abort()
        if self.upstream is not None:
            self.upstream.transport.abort()


class FaultProxy:
    """Listens on a free loopback port and forwards to ``upstream`` with the injected fault."""

    def __init__(self, upstream: tuple[str, int], *, seed: int = 0) -> None:
        self.upstream = upstream
        self._rng = random.Random(seed)
        self._fault: Fault | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._stall_over = asyncio.Event()
        self._stall_over.set()
        self.frames_passed = 0
        self.frames_faulted = 0
        self.connections_accepted = 0

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "start the proxy first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    @property
    def fault(self) -> Fault | None:
        return self._fault

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self.address

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self._fault = None
        self._stall_over.set()  # stalled handlers return
        connections, self._connections = list(self._connections), set()
        for connection in connections:
            connection.reset()  # pumps see their streams end
        # Let the handlers finish on their own: asyncio's stream server reports a
        # cancelled handler task as an error.
        handlers = [c.handler for c in connections if c.handler is not None]
        if handlers:
            await asyncio.wait(handlers, timeout=2.0)
        if server is not None:
            await server.wait_closed()

    def inject(self, fault: Fault | None) -> None:
        """Start a fault (replacing any other); ``None`` ends it."""
        previous, self._fault = self._fault, fault
        if previous is not None and previous.kind is FaultKind.STALL:
            for connection in list(self._connections):
                if connection.stalled:  # the far end forgot this connection
                    connection.reset()
            self._stall_over.set()
        if fault is None:
            return
        if fault.kind is FaultKind.STALL:
            self._stall_over.clear()
            for connection in self._connections:
                connection.stalled = True
        elif fault.kind is FaultKind.RESET:
            for connection in list(self._connections):
                connection.reset()

    def clear(self) -> None:
        self.inject(None)

    # ------------------------------------------------------------ connections

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_accepted += 1
        connection = _Connection(writer, handler=asyncio.current_task())
        self._connections.add(connection)
        try:
            await self._serve(connection, reader)
        finally:
            self._connections.discard(connection)
            writer.transport.abort()
            if connection.upstream is not None:
                connection.upstream.transport.abort()

    async def _serve(self, connection: _Connection, reader: asyncio.StreamReader) -> None:
        fault = self._fault
        if fault is not None and fault.kind is FaultKind.STALL:
            connection.stalled = True
            await self._stall_over.wait()
            return  # reset by inject(None)
        if fault is not None and fault.kind is FaultKind.RESET:
            connection.reset()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            connection.reset()  # the PLC itself is down: refuse as it would
            return
        connection.upstream = up_writer
        requests = asyncio.create_task(self._pump(connection, reader, up_writer, answers=False))
        answers = asyncio.create_task(self._pump(connection, up_reader, connection.client, True))
        connection.tasks = (requests, answers)
        try:
            await asyncio.wait(connection.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in connection.tasks:
                task.cancel()
            await asyncio.gather(*connection.tasks, return_exceptions=True)

    async def _pump(
        self,
        connection: _Connection,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        answers: bool,
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, OSError):
            while True:
                header = await source.readexactly(_MBAP)
                length = int.from_bytes(header[4:6], "big")
                frame = header + await source.readexactly(max(0, length - 1))
                if connection.stalled or not self._stall_over.is_set():
                    connection.stalled = True
                    await self._stall_over.wait()
                    return
                if answers:
                    await self._answer(connection, sink, frame)
                else:
                    sink.write(frame)
                    await sink.drain()

    async def _answer(
        self, connection: _Connection, sink: asyncio.StreamWriter, frame: bytes
    ) -> None:
        fault = self._fault
        if fault is None or fault.kind in (FaultKind.STALL, FaultKind.RESET):
            if fault is not None and fault.kind is FaultKind.RESET:
                connection.reset()
                return
            self.frames_passed += 1
            sink.write(frame)
            await sink.drain()
            return
        if self._rng.random() >= fault.probability:
            self.frames_passed += 1
            sink.write(frame)
            await sink.drain()
            return
        self.frames_faulted += 1
        match fault.kind:
            case FaultKind.DELAY:
                await asyncio.sleep(fault.delay_s)
                sink.write(frame)
            case FaultKind.DROP:
                return
            case FaultKind.TRUNCATE:
                sink.write(frame[: self._rng.randrange(1, len(frame))])
            case FaultKind.DUPLICATE:
                sink.write(frame)
                await sink.drain()
                await asyncio.sleep(fault.delay_s)
                copy = b"\x00\x00" + frame[2:] if fault.zero_copy_id else frame
                sink.write(copy)
            case FaultKind.CORRUPT:
                sink.write(self._corrupt(frame, fault.field))
        await sink.drain()

    def _corrupt(self, frame: bytes, field: CorruptField | None) -> bytes:
        data = bytearray(frame)
        which = field if field is not None else self._rng.choice(list(CorruptField))
        rng = self._rng
        match which:
            case CorruptField.TRANSACTION_ID:
                old = int.from_bytes(data[0:2], "big")
                new = (old + rng.randrange(1, 65000)) % 65536 or 1
                data[0:2] = new.to_bytes(2, "big")
            case CorruptField.TRANSACTION_ID_ZERO:
                data[0:2] = b"\x00\x00"
            case CorruptField.PROTOCOL_ID:
                data[2:4] = rng.randrange(1, 65536).to_bytes(2, "big")
            case CorruptField.LENGTH:
                old = int.from_bytes(data[4:6], "big")
                new = max(0, min(65535, old + rng.choice((-3, -1, 1, 2, 300))))
                data[4:6] = new.to_bytes(2, "big")
            case CorruptField.UNIT_ID:
                data[6] = (data[6] + rng.randrange(1, 256)) % 256
            case CorruptField.FUNCTION:
                choices = [x for x in (1, 2, 3, 4, 5, 6, 0x2B, 0x45, 0x83, 0x84) if x != data[7]]
                data[7] = rng.choice(choices)
            case CorruptField.BYTE_COUNT:
                if len(data) > 8:
                    data[8] = (data[8] + rng.choice((-2, -1, 1, 2, 7))) % 256
        return bytes(data)
