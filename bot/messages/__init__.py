"""Every sentence an operator reads, in one place, split by who reads it (each module's
docstring says more): ``common`` (times, durations, mentions, sizes every audience shares),
``incidents`` (incident events, worded once for every channel), ``slack`` (command answers,
refusals, button and modal text), ``proposals`` (remediation), ``delivery`` (email, webhook,
why a delivery failed), ``logs`` (the lines logged for the operator), ``notices`` (selfreg
itself), ``console`` (terminal lines), ``control`` (the control socket's refusals),
``backups``, ``predictions`` (anomaly, risk, forecast, the models) and ``errors``
(``bot.errors``' texts, config problems). Small pure functions, reviewed here and asserted on
by tests; layout is in ``bot.cli.tables``. Every public name of every module is re-exported
here by a star import (a new module adds one line below): ``messages.opened(...)`` works
wherever it is defined.
"""

# ruff: noqa: F403 (the star imports below are this package's public names)

from bot.messages.alertmanager import *
from bot.messages.api import *
from bot.messages.audit import *
from bot.messages.backups import *
from bot.messages.charts import *
from bot.messages.cli import *
from bot.messages.common import *
from bot.messages.console import *
from bot.messages.control import *
from bot.messages.dashboard import *
from bot.messages.delivery import *
from bot.messages.errors import *
from bot.messages.fly import *
from bot.messages.incidents import *
from bot.messages.logs import *
from bot.messages.notices import *
from bot.messages.operations import *
from bot.messages.peers import *
from bot.messages.predictions import *
from bot.messages.proposals import *
from bot.messages.regulate import *
from bot.messages.reliability import *
from bot.messages.slack import *
from bot.messages.trend import *
from bot.messages.tunnels import *
