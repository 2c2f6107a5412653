"""Slack: the Bolt app, commands, buttons, delivery, and pure Block Kit rendering."""
