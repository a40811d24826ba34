"""Alerts: rendering changes into messages, and delivering the outbox through Apprise."""

from watcher.notify.deliver import DeliveryReport, Deliverer
from watcher.notify.render import render_alert

__all__ = ["DeliveryReport", "Deliverer", "render_alert"]
