"""Alerts: rendering changes into messages, and delivering the outbox through Apprise."""

from watcher.notify.deliver import Deliverer, DeliveryReport
from watcher.notify.render import render_alert

__all__ = ["Deliverer", "DeliveryReport", "render_alert"]
