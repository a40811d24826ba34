"""Alerts: rendering per channel, routing, and the outbox worker."""

from watcher.notify.deliver import Deliverer, DeliveryReport
from watcher.notify.render import render_change

__all__ = ["Deliverer", "DeliveryReport", "render_change"]
