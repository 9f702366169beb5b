"""Prometheus metrics of one server process (served at `/metrics`, editors/admins only)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.lane import LANE, LaneCheck


class LaneCollector(Collector):
    """`votewire_fanout_lane_available{reason}`: 1 when viewers in step are written to
    directly, 0 when the server lacks what the lane needs and every viewer goes through
    its queue (`reason` says what is missing). Absent until the first viewer connects."""

    def __init__(self, lane: LaneCheck) -> None:
        self.lane = lane

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "votewire_fanout_lane_available",
            "1: the fan-out lane writes to viewers in step directly; 0: queues only (reason)",
            labels=["reason"],
        )
        if self.lane.available is not None:
            family.add_metric([self.lane.reason], 1.0 if self.lane.available else 0.0)
        yield family


class GcPauses:
    """How long garbage collections stopped the process, by generation (fed by
    server/collector.py `PauseWatch`: every collection, whoever started it):
    `votewire_gc_pause_seconds`, a histogram, and `votewire_gc_pause_longest_seconds`,
    the longest since the process began serving. A histogram only bounds the longest by
    its bucket; issue 14 asks for every full collection under 50 ms, so the longest is
    kept exactly. Used as a histogram's labelled child: `labels(generation).observe(s)`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.histogram = Histogram(
            "votewire_gc_pause_seconds",
            "How long each garbage collection stopped the process, by generation",
            ["generation"],
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.longest = Gauge(
            "votewire_gc_pause_longest_seconds",
            "The longest garbage collection pause since the process began serving, by generation",
            ["generation"],
            registry=registry,
        )
        self._children: dict[str, GenerationPauses] = {}

    def labels(self, generation: str) -> GenerationPauses:
        child = self._children.get(generation)
        if child is None:
            child = GenerationPauses(
                self.histogram.labels(generation), self.longest.labels(generation)
            )
            self._children[generation] = child
        return child


class GenerationPauses:
    """One generation's pauses: counted in the histogram, the longest kept."""

    __slots__ = ("histogram", "gauge", "longest")

    def __init__(self, histogram: Histogram, gauge: Gauge) -> None:
        self.histogram, self.gauge = histogram, gauge
        self.longest = 0.0

    def observe(self, seconds: float) -> None:
        self.histogram.observe(seconds)
        if seconds > self.longest:
            self.longest = seconds
            self.gauge.set(seconds)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.reports = Counter(
            "votewire_reports",
            "Reports answered, by outcome (ack, duplicate, error code)",
            ["outcome"],
            registry=r,
        )
        self.ack_latency = Histogram(
            "votewire_ack_latency_seconds",
            "From frame received to ack ready",
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.viewers = Gauge(
            "votewire_viewers", "Live feed viewers connected", ["audience"], registry=r
        )
        self.viewers_direct = Gauge(
            "votewire_viewers_direct",
            "Live feed viewers in step with the feed, written to directly by the fan-out",
            ["audience"],
            registry=r,
        )
        self.dropped_viewers = Counter(
            "votewire_dropped_viewers", "Viewers resynced because their queue was full", registry=r
        )
        self.fanout_latency = Histogram(
            "votewire_fanout_latency_seconds",
            "Time to hand one feed read's frames to every viewer",
            registry=r,
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1),
        )

        self.gc_pause = GcPauses(r)

        r.register(LaneCollector(LANE))

    def count(self, answer: dict) -> None:
        if answer["type"] == "ack":
            self.reports.labels("duplicate" if answer.get("duplicate") else "ack").inc()
        else:
            self.reports.labels(answer.get("code", "error")).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
