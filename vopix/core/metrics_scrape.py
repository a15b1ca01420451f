"""/metrics at scrape time (issue 17): the figures read from the database by a collector, and
the text exposition of every worker's files plus those figures. Imported by vopix.core.metrics,
which re-exports these names."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from vopix.core.metrics import MULTIPROC_DIR, _label

log = logging.getLogger("vopix.metrics")


class DatabaseCollector:
    """Figures read from the database at scrape time, with a few cheap indexed queries."""

    def collect(self) -> Iterator[Metric]:
        from vopix.core import readiness

        try:
            lags = readiness.queue_figures()
        except Exception as exc:  # the database is down: /metrics still answers
            log.warning("metrics: database figures unavailable (%s)", type(exc).__name__)
            up = GaugeMetricFamily("vopix_database_up", "Whether the database answered the scrape")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("vopix_database_up", "Whether the database answered the scrape")
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "vopix_channel_queue_depth", "Inbound channel events not yet processed", labels=["channel"]
        )
        for channel, n in sorted(lags.queue_depth.items()):
            depth.add_metric([_label(channel)], n)
        yield depth
        age = GaugeMetricFamily(
            "vopix_channel_queue_oldest_age_seconds", "Age of the oldest unprocessed inbound event"
        )
        age.add_metric([], lags.queue_oldest_s)
        yield age
        outbox = GaugeMetricFamily("vopix_mail_outbox", "Mails in the outbox by status", labels=["status"])
        for status, n in sorted(lags.mail_by_status.items()):
            outbox.add_metric([_label(status)], n)
        yield outbox
        mail_age = GaugeMetricFamily(
            "vopix_mail_outbox_oldest_due_age_seconds", "How long the oldest due mail has waited"
        )
        mail_age.add_metric([], lags.mail_oldest_due_s)
        yield mail_age
        stripe = GaugeMetricFamily(
            "vopix_stripe_events_waiting", "Stripe events stored and not yet settled"
        )
        stripe.add_metric([], lags.stripe_waiting)
        yield stripe
        tasks = GaugeMetricFamily("vopix_tasks_due", "Active scheduled tasks whose next run is due now")
        tasks.add_metric([], lags.tasks_due)
        yield tasks
        task_age = GaugeMetricFamily(
            "vopix_tasks_oldest_due_age_seconds", "How long the oldest due task has waited to run"
        )
        task_age.add_metric([], lags.tasks_oldest_due_s)
        yield task_age
        leader = GaugeMetricFamily(
            "vopix_scheduler_leader_known", "Whether some process holds the scheduler's leader lock"
        )
        leader.add_metric([], 1 if lags.leader_known else 0)
        yield leader


def render(with_database: bool = True, path: Path | None = None) -> tuple[bytes, str]:
    """The text exposition of every worker's figures (and the database's)."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(path or MULTIPROC_DIR))
    if with_database:
        registry.register(DatabaseCollector())  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def sample(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    """One sample's value in an exposition text (0 when absent): tests, bench, the CLI."""
    from prometheus_client.parser import text_string_to_metric_families

    want = labels or {}
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
                total += s.value
    return total


def names(text: str) -> Iterable[str]:
    from prometheus_client.parser import text_string_to_metric_families

    return [s.name for f in text_string_to_metric_families(text) for s in f.samples]
