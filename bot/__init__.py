"""selfreg: a Slack-first, self-regulating monitor."""

__version__ = "0.1.0"
