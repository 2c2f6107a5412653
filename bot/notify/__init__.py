"""Notifiers and the outbox worker that feeds them."""
