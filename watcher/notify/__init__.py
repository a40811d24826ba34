"""Alerts: policy (routes, storms, health, reminders), rendering per channel, and the outbox worker.

Import the module you need; this package imports nothing, so a pure policy import loads no Apprise.
"""
