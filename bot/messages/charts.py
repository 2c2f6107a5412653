"""The PNG chart posted in an incident's thread: its caption, and why one cannot be drawn."""

from __future__ import annotations

from collections.abc import Sequence

CHART_NO_METRIC = "it records no metric to draw"
CHART_TIMED_OUT = "drawing it took too long"


def chart_unavailable(incident_id: int, reason: str) -> str:
    return f"No chart for incident {incident_id}: {reason}."


def chart_caption(
    incident_id: int, metric: str, limits: Sequence[tuple[str, float, str]], asked_by: str
) -> str:
    """The line posted with the picture: what is drawn and in which colour."""
    parts = [f"{metric} around incident {incident_id} (blue); the incident's span is shaded red"]
    parts += [
        f"{name} {value:g} ({'orange' if name == 'warning' else 'red'} dashes)"
        for name, value, _ in limits
    ]
    parts.append("forecast in grey dashes, anomalies as purple squares; values at the edges")
    who = f" Asked by <@{asked_by}>." if asked_by else ""
    return "; ".join(parts) + "." + who


def chart_filename(incident_id: int, metric: str) -> str:
    return f"incident-{incident_id}-{metric}.png"


def chart_posting(incident_id: int) -> str:
    """The reply to ``/selfreg chart ID``."""
    return f"The chart of incident {incident_id} is in its thread."


CHART_NO_THREAD = "it has no Slack message to post in"


def chart_upload_failed(incident_id: int, error: str) -> str:
    """Log line: Slack refused the chart's upload or the message saying why."""
    return f"posting the chart of incident {incident_id} failed: {error}"
