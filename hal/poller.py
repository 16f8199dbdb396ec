"""One poller per PLC: one connection, one task, a scan every period.

The poller owns its pymodbus client; nothing else touches it. It turns every
outcome into samples with a quality, so the application never sees an
exception from the link (the rules, with their reasons: docs/adr/0002):

- GOOD: decoded from a fresh answer;
- BAD: the PLC answered with a Modbus exception, too few values, a value that
  does not decode (NaN, ±inf), or an answer that does not belong to the
  request (garbled on the way) — the reason says which;
- STALE: no fresh value for two scan periods, or the PLC's heartbeat stopped
  (the socket answers but the program is frozen);
- COMM_FAIL: the PLC cannot be reached; the link is down.

Samples are published as each read returns, and a timer per read marks its
points STALE when no fresh value followed within two periods, so a slow or
stalled link shows as such however long its requests take.

Every answer is checked against the request in flight before pymodbus decodes
it (transaction id, unit id, function code, length, byte count): a stray,
duplicated or garbled frame is never taken for the answer, so a value can
never land on the wrong point; the connection is then reopened, because the
stream is out of step.

A lost link is logged once at ERROR, then quietly until it recovers.
Reconnects back off exponentially up to a cap.

The poller is also the one way to write to its PLC (:meth:`Poller.write_coil`,
an interlock reset): the write goes over the same client, between two scans.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from hal.codec import BlockDecoder, DecodeError, decode_bit_block
from hal.planner import ReadRequest, plan_plc
from hal.points import (
    LinkState,
    LinkStatus,
    PlcDef,
    PointDef,
    Quality,
    Quantity,
    Sample,
    Table,
    Value,
)

log = logging.getLogger(__name__)

SamplesCallback = Callable[[list[Sample]], None]
LinkCallback = Callable[[LinkStatus], None]
ScanCallback = Callable[[float], None]

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    7: "negative acknowledge",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}

_READ_FUNCTION = {Table.COIL: 1, Table.DISCRETE_INPUT: 2, Table.HOLDING: 3, Table.INPUT: 4}
_MBAP_BYTES = 6  # transaction id, protocol id, length; the length counts from the unit id on
_MAX_MBAP_LENGTH = 254  # unit id + a PDU of at most 253 bytes


def describe_exception(code: int) -> str:
    name = EXCEPTION_NAMES.get(code, "unknown exception")
    return f"Modbus exception {code} ({name})"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential reconnect delay."""

    initial_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 10.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap_s, self.initial_s * self.factor ** max(0, attempt)))


@dataclass(frozen=True, slots=True)
class _Expected:
    """The only answer the request in flight accepts, as it must look on the wire."""

    function: int
    length: int  # the MBAP length field: unit id, function code, and the rest
    byte_count: int | None  # reads: the byte count that starts the data

    @classmethod
    def of(cls, request: ReadRequest) -> _Expected:
        data = (request.count + 7) // 8 if request.table.is_bit else 2 * request.count
        return cls(_READ_FUNCTION[request.table], 3 + data, data)


# Write single coil: the answer echoes the address and the value (unit, function, 4 bytes).
_WRITE_COIL = _Expected(function=5, length=6, byte_count=None)


class CoilWriteError(Exception):
    """A coil write did not reach the PLC, or the PLC refused it; the message says which."""


class _LinkLost(Exception):
    """The connection is unusable; reconnect."""


class _Timeout(Exception):
    """A request got no answer in time."""


class _Garbled(Exception):
    """What came back does not belong to the request; the stream is out of step."""


class Poller:
    """Polls one PLC and publishes samples and link status through callbacks.

    ``on_scan`` (optional) hears how long each scan took, in seconds.
    """

    def __init__(
        self,
        plc: PlcDef,
        on_samples: SamplesCallback,
        on_link: LinkCallback,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        timeouts_before_down: int = 2,
        on_scan: ScanCallback | None = None,
    ) -> None:
        self.plc = plc
        self._on_samples = on_samples
        self._on_link = on_link
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._timeouts_before_down = timeouts_before_down
        self._on_scan = on_scan
        # Each PLC scans at its own fixed phase of the period, derived from its
        # id, so a site's PLCs do not all answer, decode and publish at the same
        # instant: the GUI gets their samples spread over the period.
        self._phase = zlib.crc32(plc.id.encode()) / 2**32
        self._plan: tuple[ReadRequest, ...] = plan_plc(plc)
        self._expected = tuple(_Expected.of(r) for r in self._plan)
        # One compiled decoder per register read: a single struct call per answer.
        self._decoders: dict[int, BlockDecoder] = {
            id(r): BlockDecoder(r.points, r.address, r.count, plc.word_order, plc.byte_order)
            for r in self._plan
            if not r.table.is_bit
        }
        self._points: tuple[PointDef, ...] = plc.polled_points
        self._heartbeat = next((p for p in self._points if p.quantity is Quantity.HEARTBEAT), None)
        self._heartbeat_read = next(
            (
                i
                for i, r in enumerate(self._plan)
                if self._heartbeat is not None and self._heartbeat in r.points
            ),
            None,
        )
        self._task: asyncio.Task[None] | None = None
        self._client: AsyncModbusTcpClient | None = None
        # One request at a time on the link: a scan, or a write between two scans.
        self._io_lock = asyncio.Lock()
        self._status = LinkStatus(plc.id, LinkState.CONNECTING, clock())
        # Per point: the last published quality and the last good value.
        self._quality: dict[str, Quality | None] = {p.id: None for p in self._points}
        self._last_value: dict[str, Value | None] = {p.id: None for p in self._points}
        # Per read of the plan: the timer that marks its points STALE.
        self._stale_timers: dict[int, asyncio.TimerHandle] = {}
        self._hb_value: Value | None = None
        self._hb_changed_at = 0.0
        self._frozen: str | None = None  # why the heartbeat says the PLC is frozen
        # The request in flight, as the packet hook sees it.
        self._in_flight: _Expected | None = None
        self._sent_tid: int | None = None
        self._complaint: str | None = None
        self._partial: tuple[int, int] | None = None  # (bytes arrived, frame size) of the answer
        self._timeouts = 0  # requests in a row without an answer
        self._attempt = 0  # reconnects since the link last carried an answer
        self.scans = 0
        self.last_scan_s: float | None = None
        self._lost_logged = False

    # ------------------------------------------------------------ lifecycle

    @property
    def requests_per_scan(self) -> int:
        return len(self._plan)

    @property
    def status(self) -> LinkStatus:
        return self._status

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"poller-{self.plc.id}"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._cancel_stale_timers()
        self._close_client()

    # ------------------------------------------------------------ main loop

    async def _run(self) -> None:
        while True:
            try:
                await self._connect()
                await self._scan_forever()
            except _LinkLost as lost:
                self._link_down(str(lost))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not kill polling; say it and carry on
                log.exception("PLC %s: unexpected error in the poller", self.plc.id)
                self._link_down(f"internal error: {exc}")
            finally:
                self._close_client()
            await asyncio.sleep(self._backoff.delay(self._attempt))
            self._attempt += 1

    def _new_client(self) -> AsyncModbusTcpClient:
        self._sent_tid = None
        self._in_flight = None
        client = AsyncModbusTcpClient(
            self.plc.host,
            port=self.plc.port,
            timeout=self.plc.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=f"plc-{self.plc.id}",
            trace_packet=self._screen,
        )
        self._client = client
        return client

    async def _open(self) -> bool:
        client = self._new_client()
        try:
            return bool(await asyncio.wait_for(client.connect(), self.plc.timeout_s * 2))
        except (TimeoutError, OSError, ModbusException):
            return False

    async def _connect(self) -> None:
        if self._status.state is not LinkState.DOWN:  # a down link stays DOWN until it is up
            self._set_link(LinkState.CONNECTING, self._status.reason)
        if not await self._open():
            raise _LinkLost(f"cannot connect to {self._where}: connection refused or timed out")
        if self._lost_logged:
            log.warning("PLC %s: link recovered (%s)", self.plc.id, self._where)
            self._lost_logged = False
        self._hb_changed_at = time.monotonic()
        self._hb_value = None
        self._timeouts = 0
        self._set_link(LinkState.UP, "")

    async def _reopen(self, reason: str) -> None:
        """Drop the connection, so that nothing late or stray on it can ever be taken
        for a later request's answer, and open a new one at once."""
        self._close_client()
        if not await self._open():
            raise _LinkLost(f"{reason}; reconnect failed")

    def _next_slot(self, after: float) -> float:
        """The first of this PLC's scan slots at or after ``after`` (monotonic seconds)."""
        period = self.plc.scan_period_s
        offset = self._phase * period
        return math.ceil((after - offset) / period) * period + offset

    async def _scan_forever(self) -> None:
        period = self.plc.scan_period_s
        next_at = time.monotonic()  # the first scan at once, then on this PLC's slots
        first = True
        while True:
            started = time.monotonic()
            async with self._io_lock:
                await self._scan_once()
            self.last_scan_s = time.monotonic() - started
            self.scans += 1
            if self._on_scan is not None:
                self._on_scan(self.last_scan_s)
            self._status = LinkStatus(
                self.plc.id,
                self._status.state,
                self._status.since,
                self._status.reason,
                self.last_scan_s,
            )
            if first:
                next_at = self._next_slot(started + period / 2)
                first = False
            else:
                next_at += period
            now = time.monotonic()
            if next_at < now:  # overran: skip the missed slots, keep the phase
                next_at += ((now - next_at) // period + 1) * period
            await asyncio.sleep(next_at - now)

    async def _scan_once(self) -> None:
        """Every read of the plan in turn; each publishes its samples as it returns."""
        for index, request in enumerate(self._plan):
            try:
                samples = await self._read(index, request)
            except _Garbled as exc:
                self._timeouts = 0
                reason = f"garbled answer from {self._where}: {exc}"
                now = self._clock()
                self._publish(index, [self._bad(p, reason, now) for p in request.points])
                await self._reopen(reason)
                continue
            except _Timeout as exc:
                self._timeouts += 1
                if self._timeouts >= self._timeouts_before_down:
                    raise _LinkLost(str(exc)) from None
                await self._reopen(str(exc))  # the points age; their timers mark them STALE
                continue
            self._timeouts = 0
            self._attempt = 0  # the link carries answers: a later loss backs off afresh
            self._publish(index, samples)

    # ------------------------------------------------------------ the one write

    async def write_coil(self, address: int, value: bool) -> None:
        """Write one coil over this poller's link, between two scans.

        Raises :class:`CoilWriteError` when the link is not up, the PLC does not
        answer in time, or it answers with a Modbus exception. The answer is
        screened like a read's: a stray frame is never taken for it.
        """
        async with self._io_lock:
            client = self._client
            status = self._status
            if client is None or not client.connected or status.state is not LinkState.UP:
                why = status.reason or status.state.value
                raise CoilWriteError(
                    f"cannot write coil {address} of {self._where}: the link is not up ({why})"
                )
            self._in_flight = _WRITE_COIL
            self._complaint = None
            self._partial = None
            try:
                response = await asyncio.wait_for(
                    client.write_coil(address, value, device_id=self.plc.device_id),
                    self.plc.timeout_s * 1.5 + 0.05,
                )
            except (TimeoutError, ModbusIOException):
                instead = self._what_arrived_instead()
                raise CoilWriteError(
                    f"no answer from {self._where} within {self.plc.timeout_s:g} s "
                    f"to the write of coil {address}"
                    + (f" ({instead})" if instead else "")
                    + "; it may not have been written"
                ) from None
            except (ConnectionException, OSError) as exc:
                raise CoilWriteError(
                    f"the connection to {self._where} failed writing coil {address}: {exc}"
                ) from None
            finally:
                self._in_flight = None
            if response.isError():
                code = int(getattr(response, "exception_code", 0))
                raise CoilWriteError(
                    f"{self._where} refused the write of coil {address}: {describe_exception(code)}"
                )
        log.info("PLC %s: coil %d written %s", self.plc.id, address, value)

    # ------------------------------------------------------------ one request

    async def _read(self, index: int, request: ReadRequest) -> list[Sample]:
        client = self._client
        if client is None or not client.connected:
            raise _LinkLost(f"connection to {self._where} closed")
        expected = self._expected[index]
        self._in_flight = expected
        self._complaint = None
        self._partial = None
        try:
            response = await asyncio.wait_for(
                self._call(client, request), self.plc.timeout_s * 1.5 + 0.05
            )
        except (TimeoutError, ModbusIOException):
            if not client.connected:
                raise _LinkLost(f"connection to {self._where} lost") from None
            what = f"{request.table.value} {request.address}+{request.count}"
            problem = self._what_arrived_instead()
            if problem is not None:
                raise _Garbled(f"{problem} ({what})") from None
            raise _Timeout(
                f"no answer from {self._where} within {self.plc.timeout_s:g} s ({what})"
            ) from None
        except (ConnectionException, OSError) as exc:
            raise _LinkLost(f"connection to {self._where} lost: {exc}") from None
        finally:
            self._in_flight = None
        # Belt and braces: the packet hook already refused anything else.
        tid = getattr(response, "transaction_id", None)
        function = int(getattr(response, "function_code", 0))
        if tid != self._sent_tid or function & 0x7F != expected.function:
            raise _Garbled(
                f"the answer (transaction id {tid}, function {function}) is not for "
                f"request {self._sent_tid} (function {expected.function})"
            )
        now = self._clock()
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            reason = (
                f"{describe_exception(code)} reading {request.table.value} "
                f"{request.address}+{request.count}"
            )
            return [self._bad(p, reason, now) for p in request.points]
        return self._decode(request, response, now)

    async def _call(self, client: AsyncModbusTcpClient, request: ReadRequest) -> Any:
        unit = self.plc.device_id
        match request.table:
            case Table.COIL:
                return await client.read_coils(request.address, count=request.count, device_id=unit)
            case Table.DISCRETE_INPUT:
                return await client.read_discrete_inputs(
                    request.address, count=request.count, device_id=unit
                )
            case Table.HOLDING:
                return await client.read_holding_registers(
                    request.address, count=request.count, device_id=unit
                )
            case Table.INPUT:
                return await client.read_input_registers(
                    request.address, count=request.count, device_id=unit
                )

    def _screen(self, sending: bool, data: bytes) -> bytes:
        """pymodbus' packet hook: note each request's transaction id; screen what arrives.

        Called with the bytes received so far (whole frames and a partial one),
        before pymodbus frames and decodes them. A frame that is not the answer
        to the request in flight is noted as a complaint and its transaction id
        replaced, so pymodbus skips it: a stray frame with transaction id 0
        (which pymodbus accepts from any device) or with a function code it
        cannot decode never reaches it as an answer.
        """
        if sending:
            if len(data) >= 2:
                self._sent_tid = int.from_bytes(data[0:2], "big")
            return data
        expected, sent = self._in_flight, self._sent_tid
        if expected is None or sent is None:
            return data
        screened: bytearray | None = None
        pos = 0
        while len(data) - pos >= _MBAP_BYTES + 2:
            protocol = int.from_bytes(data[pos + 2 : pos + 4], "big")
            length = int.from_bytes(data[pos + 4 : pos + 6], "big")
            if protocol != 0 or not 2 <= length <= _MAX_MBAP_LENGTH:
                # No frame boundary can be trusted after this: pymodbus waits for
                # bytes that never make sense, the request times out, we reopen.
                self._complain(f"a garbled frame header (protocol id {protocol}, length {length})")
                break
            problem = self._mismatch(data, pos, length, expected, sent)
            if problem is not None:
                self._complain(problem)
                if screened is None:
                    screened = bytearray(data)
                screened[pos : pos + 2] = (sent % 65000 + 1).to_bytes(2, "big")
            end = pos + _MBAP_BYTES + length
            if end > len(data) and problem is None:
                self._partial = (len(data) - pos, end - pos)
            pos = end
        return bytes(screened) if screened is not None else data

    def _mismatch(
        self, data: bytes, pos: int, length: int, expected: _Expected, sent: int
    ) -> str | None:
        tid = int.from_bytes(data[pos : pos + 2], "big")
        unit, function = data[pos + 6], data[pos + 7]
        if tid != sent:
            return f"a frame with transaction id {tid} while waiting for {sent}"
        if unit != self.plc.device_id:
            return f"a frame from unit {unit}, not {self.plc.device_id}"
        if function == expected.function | 0x80:
            return None if length == 3 else f"an exception frame {length} bytes long, not 3"
        if function != expected.function:
            return f"a frame for function {function}, not {expected.function}"
        if length != expected.length:
            return f"a frame {length} bytes long, not {expected.length}"
        at = pos + _MBAP_BYTES + 2
        count = expected.byte_count
        if count is not None and at < len(data) and data[at] != count:
            return f"a byte count of {data[at]}, not {count}"
        return None

    def _what_arrived_instead(self) -> str | None:
        """Why no valid answer came, when something did come: a complaint, or half a frame."""
        if self._complaint is not None:
            return self._complaint
        if self._partial is not None:
            have, size = self._partial
            return f"an answer cut short: {have} of {size} bytes"
        return None

    def _complain(self, problem: str) -> None:
        if self._complaint is None:
            self._complaint = problem

    def _decode(self, request: ReadRequest, response: Any, now: float) -> list[Sample]:
        results: dict[str, Value | DecodeError]
        if request.table.is_bit:
            bits: Sequence[bool] = list(getattr(response, "bits", []) or [])
            if len(bits) < request.count:
                reason = f"short answer: {len(bits)} of {request.count} bits"
                return [self._bad(p, reason, now) for p in request.points]
            results = dict(decode_bit_block(request.points, request.address, bits[: request.count]))
        else:
            registers: Sequence[int] = list(getattr(response, "registers", []) or [])
            if len(registers) != request.count:
                reason = f"wrong answer length: {len(registers)} of {request.count} registers"
                return [self._bad(p, reason, now) for p in request.points]
            results = self._decoders[id(request)].decode(registers)
        samples: list[Sample] = []
        append = samples.append
        last_value = self._last_value
        good = Quality.GOOD
        for point_id, result in results.items():
            if isinstance(result, DecodeError):
                append(Sample(point_id, None, Quality.BAD, now, f"decode error: {result}"))
            else:
                last_value[point_id] = result
                append(Sample(point_id, result, good, now))
        return samples

    def _bad(self, point: PointDef, reason: str, now: float) -> Sample:
        return Sample(point.id, None, Quality.BAD, now, reason)

    # ------------------------------------------------------------ quality rules

    def _publish(self, index: int, samples: list[Sample]) -> None:
        """Publish one read's samples; fresh values restart its STALE timer."""
        now_mono = time.monotonic()
        if index == self._heartbeat_read:
            self._check_heartbeat(samples, now_mono)
        if self._frozen is not None:
            reason = self._frozen
            samples = [
                Sample(s.point_id, s.value, Quality.STALE, s.timestamp, reason)
                if s.quality is Quality.GOOD
                else s
                for s in samples
            ]
        elif any(s.quality is Quality.GOOD for s in samples):
            self._arm_stale_timer(index, now_mono)
        self._emit(samples)

    def _check_heartbeat(self, samples: list[Sample], now_mono: float) -> None:
        """A heartbeat that stopped counting makes every value of this PLC STALE."""
        hb = self._heartbeat
        assert hb is not None
        hb_sample = next((s for s in samples if s.point_id == hb.id), None)
        if hb_sample is None or hb_sample.quality is not Quality.GOOD:
            return
        if hb_sample.value != self._hb_value:
            self._hb_value = hb_sample.value
            self._hb_changed_at = now_mono
            self._frozen = None
            return
        frozen_for = now_mono - self._hb_changed_at
        if frozen_for > self.plc.heartbeat_timeout_s:
            self._frozen = (
                f"heartbeat frozen at {hb_sample.value} for {frozen_for:.0f} s: PLC not updating"
            )

    def _arm_stale_timer(self, index: int, fresh_at: float) -> None:
        timer = self._stale_timers.pop(index, None)
        if timer is not None:
            timer.cancel()
        self._stale_timers[index] = asyncio.get_running_loop().call_later(
            2 * self.plc.scan_period_s, self._went_stale, index, fresh_at
        )

    def _went_stale(self, index: int, fresh_at: float) -> None:
        """No fresh value for this read's points for two periods: STALE, with the last value."""
        self._stale_timers.pop(index, None)
        age = time.monotonic() - fresh_at
        now = self._clock()
        reason = f"no fresh value for {age:.1f} s"
        self._emit(
            [
                Sample(p.id, self._last_value[p.id], Quality.STALE, now, reason)
                for p in self._plan[index].points
                if self._quality[p.id] is Quality.GOOD
            ]
        )

    def _cancel_stale_timers(self) -> None:
        timers, self._stale_timers = self._stale_timers, {}
        for timer in timers.values():
            timer.cancel()

    # ------------------------------------------------------------ publishing

    def _emit(self, samples: list[Sample]) -> None:
        if not samples:
            return
        for sample in samples:
            self._quality[sample.point_id] = sample.quality
        try:
            self._on_samples(samples)
        except Exception:
            log.exception("PLC %s: a sample listener failed", self.plc.id)

    def _link_down(self, reason: str) -> None:
        self._cancel_stale_timers()
        self._frozen = None
        if not self._lost_logged:
            log.error("PLC %s: link lost: %s (retrying quietly)", self.plc.id, reason)
            self._lost_logged = True
        if self._status.state is not LinkState.DOWN or self._status.reason != reason:
            self._set_link(LinkState.DOWN, reason)
        now = self._clock()
        failed = [
            Sample(p.id, self._last_value[p.id], Quality.COMM_FAIL, now, reason)
            for p in self._points
            if self._quality[p.id] is not Quality.COMM_FAIL
        ]
        self._emit(failed)

    def _set_link(self, state: LinkState, reason: str) -> None:
        since = self._clock() if state is not self._status.state else self._status.since
        self._status = LinkStatus(self.plc.id, state, since, reason, self.last_scan_s)
        try:
            self._on_link(self._status)
        except Exception:
            log.exception("PLC %s: a link listener failed", self.plc.id)

    def _close_client(self) -> None:
        client, self._client = self._client, None
        self._in_flight = None
        if client is not None:
            client.close()

    @property
    def _where(self) -> str:
        return f"{self.plc.id} at {self.plc.host}:{self.plc.port}"
