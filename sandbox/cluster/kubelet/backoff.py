"""Exponential back-off for restarts and image pulls, as the kubelet keeps it.

Kubernetes uses one ``flowcontrol.Backoff`` per concern, keyed by container
(crash loops) or by pod and image (pulls). An entry starts at the base
delay and doubles up to the maximum on every failure. What resets it
differs:

- **crash loops**: the first crash restarts at once and arms the base
  delay; each later crash waits the current delay, then doubles it. A run
  that lasted :data:`CRASH_LOOP_RESET_AFTER` (ten minutes, as Kubernetes
  documents) before failing starts over from the first step;
- **image pulls**: every failed pull waits the current delay, then doubles it.

The kubelet owns one :class:`Backoff` per container and asks it how long to
wait; time comes from the injected clock through the callers. Durations are
printed the way Go prints a ``time.Duration`` (``10s``, ``1m20s``,
``500ms``) because they appear in Kubernetes messages users search for
(``back-off 10s restarting failed container=...``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CRASH_LOOP_RESET_AFTER", "Backoff", "go_duration"]

#: A container that ran this long before crashing restarts without delay.
CRASH_LOOP_RESET_AFTER = 600.0


@dataclass
class Backoff:
    """One back-off entry, counting consecutive failures."""

    base: float
    maximum: float
    failures: int = 0

    def next(self) -> float:
        """Count a failure; the delay before the next attempt: base, twice that, ... up to maximum."""
        self.failures += 1
        return self._delay(self.failures - 1)

    def next_restart(self, *, ran_for: float, reset_after: float = CRASH_LOOP_RESET_AFTER) -> float:
        """Count a crash; the delay before the restart: 0 for the first crash
        (or the first after a run of ``reset_after`` seconds), then base, twice that, ..."""
        if ran_for >= reset_after:
            self.failures = 0
        self.failures += 1
        return 0.0 if self.failures == 1 else self._delay(self.failures - 2)

    def reset(self) -> None:
        self.failures = 0

    def _delay(self, doublings: int) -> float:
        return min(self.base * 2 ** min(doublings, 64), self.maximum)


def go_duration(seconds: float) -> str:
    """``time.Duration.String()``: ``10s``, ``1m20s``, ``1h0m0s``, ``500ms``, ``0s``."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return sign + _trim(nanos / size) + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _trim(rest / 1e9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"
