"""A local Slack stand-in for tests and benchmarks (see /work/shared/SLACK-STANDIN.md).

    emu = SlackEmulator().start()
    client = AsyncWebClient(token="xoxb-test", base_url=emu.base_url)

The package speaks Slack's Web API over HTTP and socket mode over a WebSocket on 127.0.0.1,
keeps everything in memory and lets a test inject faults, rate limits and socket trouble.
"""

from .emulator import SlackEmulator
from .records import Ack, AckTimeout, Call, Envelope, Frame, Hook, Message, NotConnected, View

__all__ = [
    "Ack",
    "AckTimeout",
    "Call",
    "Envelope",
    "Frame",
    "Hook",
    "Message",
    "NotConnected",
    "SlackEmulator",
    "View",
]
