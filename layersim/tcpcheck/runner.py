"""Run a parsed script against a simulated host's TCP and sockets on its clock, with packetdrill's matching rules."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from layersim.errors import LayersimError
from layersim.tcp import PROFILES
from layersim.tcpcheck.callargs import CallError, check_call
from layersim.tcpcheck.codeblock import check_code, run_code
from layersim.tcpcheck.errors import UnsupportedScriptError
from layersim.tcpcheck.matching import (
    DEFAULT_TOLERANCE_NS,
    DEFAULT_TOLERANCE_PERCENT,
    MappingError,
    SegmentView,
    SeqMap,
    combine,
    compare_ip,
    compare_segment,
    compare_tsval,
    sent_ip,
    spec_text,
    tolerance_ns,
    with_ip,
)
from layersim.tcpcheck.model import (
    CodeBlock,
    Event,
    Script,
    SegmentSpec,
    Shell,
    Syscall,
    TimeKind,
    TimeSpec,
    Unsupported,
)
from layersim.tcpcheck.prelude import Prelude, prelude, shell_later
from layersim.tcpcheck.report import LineResult, RunResult, actual_call, expected_call, format_time
from layersim.tcpcheck.sockets import CallResult, ScriptHost, Sent
from layersim.wire.tcp import TCP

__all__ = ["RunConfig", "run_script"]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """How to run: TCP profile, option matching (exact or loose), seed for ISNs, timing tolerance."""

    profile: str = "linux"
    options: str = "exact"
    seed: int = 0
    remote_isn: int = 0
    mss: int = 1460
    tolerance_ns: int = DEFAULT_TOLERANCE_NS
    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT
    horizon_ns: int = 600_000_000_000  # how far `*` and the search for a late segment look ahead
    # "strict": a segment sent before a line that expects none (or by the end) fails there; "packetdrill": as
    # packetdrill, sent segments are only compared when a `>` line comes (run_packet.c sniffs then), and what is
    # sent after the last one is not looked at
    extras: str = "strict"


class _Failed(Exception):
    """Stops the run: the line that failed."""

    def __init__(self, result: LineResult) -> None:
        super().__init__(result.message)
        self.result = result


@dataclass(slots=True)
class _Pending:
    """A call that blocked, with the window in which it must return."""

    index: int
    event: Event
    call: Generator[None, None, CallResult]
    end: int
    low: int
    high: int


class _Run:
    """One run of one script."""

    def __init__(self, script: Script, config: RunConfig, start: Prelude, first: int) -> None:
        self.script = script
        self.config = config
        self.start = start
        self.first = first  # events before this one are the leading shell lines, already run
        self.floor = config.tolerance_ns
        self.percent = config.tolerance_percent
        for name, value, _line in script.settings:
            if name == "tolerance_usecs":
                self.floor = int(float(value) * 1000)
            elif name == "tolerance_percent":
                self.percent = float(value)
        self.stack = ScriptHost(start.profile, config.seed, mss=config.mss)
        self.map = SeqMap(remote_isn=config.remote_isn)
        self.previous = 0
        self.pending: _Pending | None = None
        self.results: dict[int, LineResult] = {}

    # --- time ----------------------------------------------------------------------------------------
    def tolerance(self, expected: int, previous: int) -> int:
        """Allowed deviation for an event expected at `expected`."""
        return tolerance_ns(expected, previous, floor_ns=self.floor, percent=self.percent)

    def start_of(self, time: TimeSpec, ns: int) -> int:
        """Script time `ns` (as written in `time`) on the run's clock."""
        return self.previous + ns if time.kind is TimeKind.RELATIVE else ns

    def advance(self, target: int) -> None:
        """Run every timer due up to `target`, then stand at `target`; a blocked call must return in its window."""
        if self.pending is not None and target > self.pending.high:
            self.advance(self.pending.high)
            if self.pending is not None:
                self.fail_pending()
        stack = self.stack
        while (deadline := stack.next_deadline()) is not None and deadline <= target:
            try:
                stack.run(deadline)
            except LayersimError:  # the clock's guard against events at one instant that never end
                raise _Failed(LineResult(self.pending.event if self.pending else self.script.events[0], False,
                                         stack.now, f"TCP timer at {format_time(deadline)} fires without end")) \
                    from None
            self.poll()
        stack.run(target)
        self.poll()

    # --- blocked calls ---------------------------------------------------------------------------------
    def poll(self) -> None:
        """Let a blocked call try again; check it when it returns."""
        pending = self.pending
        if pending is None:
            return
        try:
            next(pending.call)
            return
        except StopIteration as stop:
            result: CallResult = stop.value
        self.pending = None
        now = self.stack.now
        if not pending.low <= now <= pending.high:
            raise _Failed(LineResult(pending.event, False, now, f"call returned at {format_time(now)}, expected at "
                                     f"{format_time(pending.end)} (allowed {format_time(pending.low)} to "
                                     f"{format_time(pending.high)})", expected_call(pending.event.action),
                                     actual_call(result)))
        self.check_result(pending.index, pending.event, result)

    def fail_pending(self) -> None:
        """The blocked call did not return in its window."""
        pending = self.pending
        assert pending is not None
        blocking = pending.event.time.block_ns is not None
        hint = "" if blocking else " (it blocks: write START...END if the script means it to)"
        raise _Failed(LineResult(pending.event, False, self.stack.now, f"call did not return by "
                                 f"{format_time(pending.high)}{hint}", expected_call(pending.event.action),
                                 "still blocked"))

    def wait_pending(self) -> None:
        """Run time on until the blocked call returns (or fails to, in its window)."""
        while self.pending is not None:
            deadline = self.stack.next_deadline()
            if deadline is None or deadline > self.pending.high:
                self.advance(self.pending.high)
                if self.pending is not None:
                    self.fail_pending()
            else:
                self.advance(deadline)

    def check_result(self, index: int, event: Event, result: CallResult) -> None:
        """Compare a call's return with the script's."""
        call = event.action
        assert isinstance(call, Syscall)
        now = self.stack.now
        if call.name in ("socket", "accept") and call.result is not None and call.result >= 0 <= result.value:
            self.stack.alias(call.result, result.value)  # packetdrill: the script's fd numbers name live ones
            result = CallResult(call.result, result.errno, result.mismatch)
        wrong = (call.result is not None and result.value != call.result) or \
                (call.errno is not None and result.errno != call.errno)
        if wrong:
            raise _Failed(LineResult(event, False, now, f"{call.name}() returned {actual_call(result)[2:]}",
                                     expected_call(call), actual_call(result)))
        if result.mismatch is not None:
            raise _Failed(LineResult(event, False, now, result.mismatch, expected_call(call), actual_call(result)))
        self.results[index] = LineResult(event, True, now)

    # --- events ----------------------------------------------------------------------------------------
    def no_extras(self, event: Event) -> None:
        """Nothing may have been sent that the script did not expect before this line (strict extras only)."""
        if self.stack.sent and self.config.extras == "strict":
            when, segment = self.stack.sent[0]
            view = self.view(segment)
            raise _Failed(LineResult(event, False, when, f"unexpected extra segment sent at {format_time(when)} "
                                     "(the script expects none before this line)", None, view.text()))

    def view(self, segment: Sent) -> SegmentView:
        """A sent segment in script numbers."""
        return self.map.view(segment.tcp, len(segment.payload))

    def inbound(self, event: Event, spec: SegmentSpec) -> None:
        """Inject a segment from the remote."""
        at = max(self.start_of(event.time, event.time.ns), self.stack.now)
        self.advance(at)
        self.no_extras(event)
        try:
            seq, ack, options = self.map.inbound(spec)
        except MappingError as exc:
            raise _Failed(LineResult(event, False, at, str(exc))) from None
        sport, dport = self.stack.inbound_ports()
        tcp = TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=spec.flags,
                  window=spec.window if spec.window is not None else 65535, options=options)
        self.stack.inject(tcp, bytes(spec.length), spec.ip)
        self.poll()
        self.previous = at

    def next_sent(self, event: Event, spec: SegmentSpec, high: int) -> tuple[int, Sent]:
        """The next segment the stack sends by `high`; failing that, report it late or missing."""
        stack = self.stack
        while not stack.sent:
            deadline = stack.next_deadline()
            if deadline is None or deadline > high:
                break
            self.advance(deadline)
        if stack.sent:
            return stack.sent.popleft()
        horizon = high + self.config.horizon_ns
        while not stack.sent:
            deadline = stack.next_deadline()
            if deadline is None or deadline > horizon:
                break
            self.advance(deadline)
        if stack.sent:
            when, segment = stack.sent[0]
            view = self.view(segment)
            problems = compare_segment(spec, view, self.config.options)
            message = f"segment sent late: at {format_time(when)}, expected by {format_time(high)}" if not problems \
                else f"expected segment not sent by {format_time(high)}; the next one, at {format_time(when)}, " \
                     f"differs: {'; '.join(problems)}"
            raise _Failed(LineResult(event, False, when, message, spec_text(spec), view.text()))
        raise _Failed(LineResult(event, False, None, f"expected segment was never sent (nothing by "
                                 f"{format_time(high)})", spec_text(spec), "nothing"))

    def outbound(self, event: Event, spec: SegmentSpec) -> None:
        """Check the next segment the stack sends against the script's."""
        time = event.time
        if time.kind is TimeKind.ANY:
            low, high = self.previous, self.stack.now + self.config.horizon_ns
        else:
            start = self.start_of(time, time.ns)
            end = self.start_of(time, time.end_ns) if time.end_ns is not None else start
            slack = self.tolerance(start, self.previous)
            low, high = start - slack, end + slack
        when, segment = self.next_sent(event, spec, high)
        if when < low:
            raise _Failed(LineResult(event, False, when, f"segment sent early: at {format_time(when)}, expected no "
                                     f"sooner than {format_time(low)}", spec_text(spec),
                                     self.view(segment).text()))
        if segment.tcp.flags & 0x02:
            self.map.learn_isn(spec, segment.tcp)
        if self.map.first_ts is None:  # the first TS val anchors the mapping, so show it in script numbers
            self.map.learn_ts(spec, segment.tcp)
        view = self.view(segment)
        if spec.length > view.length > 0 and not self.start.strict_segments:
            views = [view]
            while sum(v.length for v in views) < spec.length and (self.stack.sent or self.stack.next_deadline()):
                try:
                    when, more = self.next_sent(event, spec, high)
                except _Failed:
                    break
                views.append(self.view(more))
            merged = combine(views)
            if isinstance(merged, str):
                raise _Failed(LineResult(event, False, when, f"cannot match {len(views)} segments to one: {merged}",
                                         spec_text(spec), "; ".join(v.text() for v in views)))
            view = merged
        problems = compare_segment(spec, view, self.config.options) + compare_ip(spec.ip, segment.tos, segment.ttl)
        if self.start.ts_tick_ns:  # as packetdrill: TS vals are checked only when the script gives the tick
            problems += compare_tsval(spec, view, -(-self.floor // self.start.ts_tick_ns) + 1)
        if problems:
            actual = with_ip(view.text(), sent_ip(spec.ip, segment.tos, segment.ttl))
            raise _Failed(LineResult(event, False, when, "; ".join(problems), spec_text(spec), actual))
        self.map.learn_ts(spec, segment.tcp)
        self.previous = when

    def syscall(self, index: int, event: Event, call: Syscall) -> None:
        """Start a call at its time; it returns at once or blocks until its window."""
        self.wait_pending()
        start = self.start_of(event.time, event.time.ns)
        self.advance(max(start, self.stack.now))
        self.no_extras(event)
        start = self.stack.now
        block = event.time.block_ns
        end = self.start_of(event.time, block) if block is not None else start
        slack = self.tolerance(end, start)
        try:
            running = self.stack.call(call)
            next(running)
        except StopIteration as stop:
            self.previous = start
            if block is not None and end - slack > start:
                message = f"call returned at once, expected it to block until {format_time(end)}"
                raise _Failed(LineResult(event, False, start, message, expected_call(call),
                                         actual_call(stop.value))) from None
            self.check_result(index, event, stop.value)
            return
        except CallError as exc:
            raise UnsupportedScriptError(self.script.path, [(event.line, str(exc))]) from None
        self.previous = start
        self.pending = _Pending(index, event, running, end, end - slack, end + slack)

    def code(self, event: Event, block: CodeBlock) -> None:
        """Run a `%{ }%` block at its time with the TCP_INFO of the socket the script used last."""
        self.wait_pending()
        at = max(self.start_of(event.time, event.time.ns), self.stack.now)
        self.advance(at)
        self.no_extras(event)
        info = self.stack.tcp_info()
        if info is None:
            raise _Failed(LineResult(event, False, at, "code block: no TCP connection to take TCP_INFO from"))
        printed: list[str] = []
        problem = run_code(block.source, info, printed)
        self.previous = at
        if problem is not None:
            output = f" (printed: {'; '.join(printed)})" if printed else ""
            raise _Failed(LineResult(event, False, at, problem + output))

    def run(self) -> RunResult:
        """Run every line; stop at the first failure."""
        passed = True
        try:
            for index, event in enumerate(self.script.events):
                action = event.action
                if index < self.first:
                    self.results[index] = LineResult(event, True, 0)
                    continue
                try:
                    if isinstance(action, Shell):
                        shell_later(self.script, event.line, action.command, self.start.profile)
                    elif isinstance(action, CodeBlock):
                        self.code(event, action)
                    elif isinstance(action, SegmentSpec) and action.inbound:
                        self.inbound(event, action)
                    elif isinstance(action, SegmentSpec):
                        self.outbound(event, action)
                    elif isinstance(action, Syscall):
                        self.syscall(index, event, action)
                        continue
                except (_Failed, UnsupportedScriptError):
                    raise
                except Exception as exc:  # a TCP that raises is a failing line, never a traceback
                    raise _Failed(LineResult(event, False, self.stack.now, f"layersim.tcp raised "
                                             f"{type(exc).__name__}: {exc}")) from None
                self.results[index] = LineResult(event, True, self.stack.now)
            try:
                self.finish()
            except _Failed:
                raise
            except Exception as exc:  # as above: a TCP that raises fails the run, it does not crash it
                end = self.script.events[-1] if self.script.events else None
                if end is None:
                    raise
                raise _Failed(LineResult(end, False, self.stack.now, f"layersim.tcp raised "
                                         f"{type(exc).__name__}: {exc}")) from None
        except _Failed as failed:
            passed = False
            index = self.script.events.index(failed.result.event) if failed.result.event in self.script.events \
                else len(self.script.events)
            self.results[index] = failed.result
        lines = tuple(self.results[i] for i in sorted(self.results))
        return RunResult(self.script.path, self.config.profile, lines, passed)

    def finish(self) -> None:
        """After the last line: a blocked call must return; nothing unscripted may have been sent."""
        self.wait_pending()
        if self.stack.sent:
            last = self.script.events[-1].line if self.script.events else 0
            end = Event(last + 1, 1, TimeSpec(TimeKind.RELATIVE), Unsupported("end of script"), "(end of script)")
            self.no_extras(end)


def run_script(script: Script, config: RunConfig | None = None) -> RunResult:
    """Run a parsed script; raises UnsupportedScriptError (naming every line) when it cannot be run."""
    config = config or RunConfig()
    if config.extras not in ("strict", "packetdrill"):
        raise UnsupportedScriptError(script.path, [(0, f"extras {config.extras!r} (use 'strict' or 'packetdrill')")])
    if config.profile not in PROFILES:
        raise UnsupportedScriptError(script.path, [(0, f"profile {config.profile!r} (known: "
                                                       f"{', '.join(PROFILES)})")])
    problems = script.unsupported()
    problems += [(e.line, why) for e in script.events
                 if isinstance(e.action, Syscall) and (why := check_call(e.action)) is not None]
    problems += [(e.line, why) for e in script.events
                 if isinstance(e.action, CodeBlock) and (why := check_code(e.action.source)) is not None]
    try:
        start, first = prelude(script, PROFILES[config.profile])
    except UnsupportedScriptError as exc:
        problems += exc.problems
    if problems:
        raise UnsupportedScriptError(script.path, sorted(problems))
    return _Run(script, config, start, first).run()
