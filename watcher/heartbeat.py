"""How often the daemon beats, and how old a beat may be before it counts as stuck: read by the
scheduler that writes the beat and by `watcher health` and the web app's /healthz that judge it,
without either judge loading the daemon."""

from __future__ import annotations

from datetime import timedelta

from watcher.store.ops import default_max_age

HEARTBEAT_EVERY = timedelta(seconds=30)
HEALTH_MAX_AGE = default_max_age(HEARTBEAT_EVERY)  # unless [watcher] health_max_age says
