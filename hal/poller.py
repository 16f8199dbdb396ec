"""One poller per PLC: one connection, one task, a scan every period.

The poller owns its pymodbus client; nothing else touches it. It turns every
outcome into samples with a quality, so the application never sees an
exception from the link:

- GOOD: decoded from a fresh answer;
- BAD: the PLC answered with a Modbus exception, too few values, or a value
  that does not decode (NaN, ±inf) — the reason says which;
- STALE: no fresh value for two scan periods, or the PLC's heartbeat stopped
  (the socket answers but the program is frozen);
- COMM_FAIL: the PLC cannot be reached; the link is down.

A lost link is logged once at ERROR, then quietly until it recovers.
Reconnects back off exponentially up to a cap.
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

from hal.codec import DecodeError, decode_bit_block, decode_block
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


class _LinkLost(Exception):
    """The connection is unusable; reconnect."""


class _Timeout(Exception):
    """A request got no answer in time."""


class Poller:
    """Polls one PLC and publishes samples and link status through callbacks."""

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
        self._points: tuple[PointDef, ...] = plc.polled_points
        self._heartbeat = next((p for p in self._points if p.quantity is Quantity.HEARTBEAT), None)
        self._task: asyncio.Task[None] | None = None
        self._client: AsyncModbusTcpClient | None = None
        self._status = LinkStatus(plc.id, LinkState.CONNECTING, clock())
        # Per point: the last published quality and when it was last fresh (monotonic).
        self._quality: dict[str, Quality | None] = {p.id: None for p in self._points}
        self._last_value: dict[str, Value | None] = {p.id: None for p in self._points}
        self._fresh_at: dict[str, float] = {}
        self._hb_value: Value | None = None
        self._hb_changed_at = 0.0
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
        self._close_client()

    # ------------------------------------------------------------ main loop

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._connect()
                attempt = 0
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
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1

    async def _connect(self) -> None:
        if self._status.state is not LinkState.DOWN:  # a down link stays DOWN until it is up
            self._set_link(LinkState.CONNECTING, self._status.reason)
        client = AsyncModbusTcpClient(
            self.plc.host,
            port=self.plc.port,
            timeout=self.plc.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=f"plc-{self.plc.id}",
        )
        self._client = client
        try:
            connected = await asyncio.wait_for(client.connect(), self.plc.timeout_s * 2)
        except (TimeoutError, OSError, ModbusException) as exc:
            raise _LinkLost(f"cannot connect to {self._where}: {exc or 'timed out'}") from None
        if not connected or not client.connected:
            raise _LinkLost(f"cannot connect to {self._where}: connection refused or timed out")
        if self._lost_logged:
            log.warning("PLC %s: link recovered (%s)", self.plc.id, self._where)
            self._lost_logged = False
        self._hb_changed_at = time.monotonic()
        self._hb_value = None
        self._set_link(LinkState.UP, "")

    def _next_slot(self, after: float) -> float:
        """The first of this PLC's scan slots at or after ``after`` (monotonic seconds)."""
        period = self.plc.scan_period_s
        offset = self._phase * period
        return math.ceil((after - offset) / period) * period + offset

    async def _scan_forever(self) -> None:
        period = self.plc.scan_period_s
        next_at = time.monotonic()  # the first scan at once, then on this PLC's slots
        first = True
        timeouts = 0
        while True:
            started = time.monotonic()
            try:
                await self._scan_once()
                timeouts = 0
            except _Timeout as exc:
                timeouts += 1
                if timeouts >= self._timeouts_before_down:
                    raise _LinkLost(str(exc)) from None
                # Drop the connection so a late answer can never be taken for
                # the next request's; reconnect at once.
                self._mark_stale_if_old()
                self._close_client()
                await self._reconnect_quietly(str(exc))
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

    async def _reconnect_quietly(self, reason: str) -> None:
        client = AsyncModbusTcpClient(
            self.plc.host,
            port=self.plc.port,
            timeout=self.plc.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=f"plc-{self.plc.id}",
        )
        self._client = client
        try:
            ok = await asyncio.wait_for(client.connect(), self.plc.timeout_s * 2)
        except (TimeoutError, OSError, ModbusException):
            ok = False
        if not ok:
            raise _LinkLost(f"{reason}; reconnect failed")

    async def _scan_once(self) -> None:
        samples: list[Sample] = []
        now_mono = time.monotonic()
        for request in self._plan:
            samples.extend(await self._read(request))
        samples = self._apply_heartbeat(samples, now_mono)
        for sample in samples:
            if sample.quality is Quality.GOOD:
                self._fresh_at[sample.point_id] = now_mono
        samples.extend(self._stale_samples(now_mono, {s.point_id for s in samples}))
        self._emit(samples)

    # ------------------------------------------------------------ one request

    async def _read(self, request: ReadRequest) -> list[Sample]:
        client = self._client
        if client is None or not client.connected:
            raise _LinkLost(f"connection to {self._where} closed")
        try:
            response = await asyncio.wait_for(
                self._call(client, request), self.plc.timeout_s * 1.5 + 0.05
            )
        except (TimeoutError, ModbusIOException) as exc:
            if not client.connected:
                raise _LinkLost(f"connection to {self._where} lost") from None
            raise _Timeout(
                f"no answer from {self._where} within {self.plc.timeout_s:g} s "
                f"({request.table.value} {request.address}+{request.count})"
                + (f": {exc}" if isinstance(exc, ModbusIOException) else "")
            ) from None
        except (ConnectionException, OSError) as exc:
            raise _LinkLost(f"connection to {self._where} lost: {exc}") from None
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
            results = decode_block(
                request.points, request.address, registers, self.plc.word_order, self.plc.byte_order
            )
        samples: list[Sample] = []
        for point in request.points:
            result = results[point.id]
            if isinstance(result, DecodeError):
                samples.append(self._bad(point, f"decode error: {result}", now))
            else:
                self._last_value[point.id] = result
                samples.append(Sample(point.id, result, Quality.GOOD, now))
        return samples

    def _bad(self, point: PointDef, reason: str, now: float) -> Sample:
        return Sample(point.id, None, Quality.BAD, now, reason)

    # ------------------------------------------------------------ quality rules

    def _apply_heartbeat(self, samples: list[Sample], now_mono: float) -> list[Sample]:
        """A heartbeat that stopped counting makes every value of this PLC STALE."""
        hb = self._heartbeat
        if hb is None:
            return samples
        hb_sample = next((s for s in samples if s.point_id == hb.id), None)
        if hb_sample is None or hb_sample.quality is not Quality.GOOD:
            return samples
        if hb_sample.value != self._hb_value:
            self._hb_value = hb_sample.value
            self._hb_changed_at = now_mono
            return samples
        frozen_for = now_mono - self._hb_changed_at
        if frozen_for <= self.plc.heartbeat_timeout_s:
            return samples
        reason = f"heartbeat frozen at {hb_sample.value} for {frozen_for:.0f} s: PLC not updating"
        return [
            Sample(s.point_id, s.value, Quality.STALE, s.timestamp, reason)
            if s.quality is Quality.GOOD
            else s
            for s in samples
        ]

    def _stale_samples(self, now_mono: float, published: set[str]) -> list[Sample]:
        """Points without a fresh value for two periods, not already reported."""
        limit = 2 * self.plc.scan_period_s
        out: list[Sample] = []
        now = self._clock()
        for point in self._points:
            if point.id in published:
                continue
            fresh = self._fresh_at.get(point.id)
            if (
                self._quality[point.id] is Quality.GOOD
                and fresh is not None
                and now_mono - fresh > limit
            ):
                out.append(
                    Sample(
                        point.id,
                        self._last_value[point.id],
                        Quality.STALE,
                        now,
                        f"no fresh value for {now_mono - fresh:.1f} s",
                    )
                )
        return out

    def _mark_stale_if_old(self) -> None:
        self._emit(self._stale_samples(time.monotonic(), set()))

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
        if client is not None:
            client.close()

    @property
    def _where(self) -> str:
        return f"{self.plc.id} at {self.plc.host}:{self.plc.port}"
