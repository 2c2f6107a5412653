"""Check plugins: one module per kind; ``REGISTRY`` maps a config ``kind`` to its class."""

from __future__ import annotations

from checks.alertmanager import AlertmanagerCheck
from checks.base import Check
from checks.cloudflared import CloudflaredCheck
from checks.exec import ExecCheck
from checks.fly import FlyCheck
from checks.http import HttpCheck
from checks.logfile import LogfileCheck
from checks.ngrok import NgrokCheck
from checks.peer import PeerCheck
from checks.process import ProcessCheck
from checks.prometheus import PrometheusCheck
from checks.selfreg import SelfregCheck
from checks.sync import SyncCheck
from checks.system import SystemCheck
from checks.tcp import TcpCheck

REGISTRY: dict[str, type[Check]] = {
    "alertmanager": AlertmanagerCheck,
    "cloudflared": CloudflaredCheck,
    "exec": ExecCheck,
    "fly": FlyCheck,
    "http": HttpCheck,
    "logfile": LogfileCheck,
    "ngrok": NgrokCheck,
    "peer": PeerCheck,
    "process": ProcessCheck,
    "prometheus": PrometheusCheck,
    "selfreg": SelfregCheck,
    "sync": SyncCheck,
    "system": SystemCheck,
    "tcp": TcpCheck,
}
