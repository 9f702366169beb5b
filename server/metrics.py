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

        self.gc_pause = Histogram(
            "votewire_gc_pause_seconds",
            "How long each garbage collection stopped the process, by generation",
            ["generation"],
            registry=r,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

        r.register(LaneCollector(LANE))

    def count(self, answer: dict) -> None:
        if answer["type"] == "ack":
            self.reports.labels("duplicate" if answer.get("duplicate") else "ack").inc()
        else:
            self.reports.labels(answer.get("code", "error")).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
