"""``/selfreg`` commands: parsing (pure) and one engine call per command.

Unknown or malformed input gets the help text. Every reply is a ``Rendered`` message; the
Bolt listener decides how it is sent (ephemeral through the ack or ``respond``).
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import messages
from bot.clock import Clock
from bot.config.alerts import COMMANDS
from bot.engine.alerting import Alerting
from bot.engine.remediation import Remediation
from bot.engine.silences import silence_terms
from bot.engine.trend import RANGES, trend
from bot.errors import BadCommand, UnknownCheck, UserError
from bot.slack import views
from bot.slack.permissions import Permissions
from bot.slack.plan import plan_answer
from bot.slack.render import Rendered
from bot.store import audit
from bot.store import incidents as rows
from bot.store.availability import availability
from bot.store.db import Store
from bot.store.history import all_series

if TYPE_CHECKING:
    from bot.engine.predict import Predictor  # scikit-learn: only when [models] is on
    from bot.engine.regulate.make import Regulation
    from bot.slack.charts import ChartPoster


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedCommand:
    name: str
    args: tuple[str, ...] = ()


def parse(text: str) -> ParsedCommand:
    """``"silence check=api 2h deploy"`` -> ParsedCommand("silence", (...)). Empty is help."""
    try:
        words = shlex.split(text or "")
    except ValueError as exc:
        raise BadCommand(messages.unreadable_command(str(exc))) from None
    if not words:
        return ParsedCommand(name="help")
    name, args = words[0].lower(), tuple(words[1:])
    if name not in COMMANDS:
        raise BadCommand(messages.unknown_command(name))
    return ParsedCommand(name=name, args=args)


def _number(text: str, what: str, usage: str) -> int:
    value = text.lstrip("#")
    if not value.isdigit():
        raise BadCommand(messages.bad_arguments(usage, messages.not_a_number(what, text)))
    return int(value)


class Commands:
    """Runs one parsed command for one user and returns the reply."""

    def __init__(
        self,
        *,
        alerting: Alerting,
        store: Store,
        clock: Clock,
        permissions: Permissions,
        status: Callable[[], Mapping[str, Any]],
        run_checks: Callable[[Sequence[str] | None], Awaitable[list[Mapping[str, Any]]]],
        started_at: float,
        remediation: Remediation | None = None,
        admins: Sequence[str] = (),
        reload: Callable[[str], Awaitable[str]] | None = None,
        predictor: Predictor | None = None,
        regulation: Regulation | None = None,
        charts: ChartPoster | None = None,
    ) -> None:
        self.regulation = regulation  # /selfreg plan (bot/slack/plan.py)
        self.charts = charts
        self.reload = reload
        self.remediation = remediation
        self.admins = set(admins)
        self.alerting = alerting
        self.store = store
        self.clock = clock
        self.permissions = permissions
        self.status = status
        self.run_checks = run_checks
        self.started_at = started_at
        self.predictor = predictor

    async def allowed(self, command: ParsedCommand, user: str) -> bool:
        return await self.permissions.allows(command.name, user)

    async def run(self, command: ParsedCommand, user: str) -> Rendered:
        """The reply to ``command``; ``UserError``s become their text, help for bad input."""
        try:
            handler = getattr(self, f"_{command.name}")
            return await handler(command.args, user)
        except BadCommand as exc:
            return views.help_view(str(exc))
        except UserError as exc:
            return views.text_view(str(exc))

    async def _plan(self, args: Sequence[str], user: str) -> Rendered:
        return views.text_view(plan_answer(self.regulation, args, user, self.admins))

    async def _help(self, args: Sequence[str], user: str) -> Rendered:
        return views.help_view()

    async def _status(self, args: Sequence[str], user: str) -> Rendered:
        now = self.clock.now()
        document = self.status()
        names = sorted({c["check"] for c in document["checks"]})
        avail = {
            name: (
                availability(self.store, name, now, 86400),
                availability(self.store, name, now, 7 * 86400),
            )
            for name in names
        }
        return views.status_view(
            document,
            avail,
            rows.open_incidents(self.store),
            rows.active_silences(self.store, now),
            now - self.started_at,
            now,
        )

    async def _health(self, args: Sequence[str], user: str) -> Rendered:
        return views.health_view(await self.run_checks(None))

    async def _alerts(self, args: Sequence[str], user: str) -> Rendered:
        return views.alerts_view(rows.open_incidents(self.store))

    async def _history(self, args: Sequence[str], user: str) -> Rendered:
        if args and not args[0].isdigit():
            return self._trend(args)
        count = _number(args[0], "N", messages.USAGE["history"]) if args else 10
        return views.history_view(
            rows.recent_incidents(self.store, min(max(count, 1), 50)), self.clock.now()
        )

    def _trend(self, args: Sequence[str]) -> Rendered:
        """``/selfreg history CHECK [1h|24h|7d|30d]``: the check's trend from the rollups."""
        word = args[1] if len(args) > 1 else "24h"
        if word not in RANGES or len(args) > 2:
            raise BadCommand(
                messages.bad_arguments(messages.USAGE["history"], messages.trend_bad_range(word))
            )
        known = sorted({s.check for s in all_series(self.store)})
        if args[0] not in known:
            raise BadCommand(messages.trend_unknown_check(args[0], known))
        now = self.clock.now()
        return views.text_view(messages.trend_block(trend(self.store, args[0], word, now), now))

    async def _ack(self, args: Sequence[str], user: str) -> Rendered:
        if len(args) != 1:
            raise BadCommand(
                messages.bad_arguments(messages.USAGE["ack"], messages.GIVE_INCIDENT_ID)
            )
        incident_id = _number(args[0], "ID", messages.USAGE["ack"])
        self.alerting.acknowledge(incident_id, user)
        return views.text_view(messages.acknowledged_reply(incident_id))

    async def _silence(self, args: Sequence[str], user: str) -> Rendered:
        if len(args) < 2:
            raise BadCommand(
                messages.bad_arguments(
                    messages.USAGE["silence"], messages.GIVE_MATCHER_AND_DURATION
                )
            )
        rest = list(args[2:])
        starts = rest.pop(0).removeprefix("from=") if rest and rest[0].startswith("from=") else None
        try:
            matcher, duration, starts_at = silence_terms(args[0], args[1], starts)
        except ValueError as exc:
            raise BadCommand(messages.bad_arguments(messages.USAGE["silence"], str(exc))) from None
        silence = self.alerting.add_silence(matcher, duration, " ".join(rest), user, starts_at)
        return views.text_view(messages.silence_answer(silence, self.clock.now()))

    async def _unsilence(self, args: Sequence[str], user: str) -> Rendered:
        if len(args) != 1:
            raise BadCommand(
                messages.bad_arguments(messages.USAGE["unsilence"], messages.GIVE_SILENCE_ID)
            )
        silence_id = _number(args[0], "ID", messages.USAGE["unsilence"])
        self.alerting.remove_silence(silence_id, user)
        return views.text_view(messages.silence_removed(silence_id))

    async def _run(self, args: Sequence[str], user: str) -> Rendered:
        if not args or len(args) > 2:
            raise BadCommand(messages.bad_arguments(messages.USAGE["run"], messages.GIVE_ACTION))
        remediation = self._remediation()
        incident_id = (
            _number(args[1], "INCIDENT", messages.USAGE["run"]) if len(args) == 2 else None
        )
        proposal, decision = await remediation.request(args[0], user, incident_id)
        return views.text_view(
            messages.manual_run(proposal.id, args[0], decision.reason, decision.allowed)
        )

    async def _actions(self, args: Sequence[str], user: str) -> Rendered:
        remediation = self._remediation()
        if args:
            if args[0] not in ("pause", "resume") or len(args) != 1:
                raise BadCommand(
                    messages.bad_arguments(
                        messages.USAGE["actions"], messages.not_pause_or_resume(" ".join(args))
                    )
                )
            if user not in self.admins:
                return views.text_view(messages.admins_only(f"actions {args[0]}"))
            remediation.pause(user, args[0] == "pause")
            return views.text_view(messages.kill_switch(args[0] == "pause", user))
        return views.actions_view(remediation.overview(), remediation.paused_by())

    async def _audit(self, args: Sequence[str], user: str) -> Rendered:
        if len(args) > 1:
            raise BadCommand(
                messages.bad_arguments(messages.USAGE["audit"], messages.GIVE_AUDIT_SUBJECT)
            )
        subject = actor = None
        if args:
            word = args[0].lstrip("#")
            if word.isdigit():
                subject = f"incident:{word}"
            else:
                actor = word.strip("<@>").split("|")[0]
        trail = audit.recent(self.store, subject=subject, actor=actor, limit=20)
        return views.audit_view(trail)

    async def _chart(self, args: Sequence[str], user: str) -> Rendered:
        """``/selfreg chart ID``: the incident's chart, posted in its thread."""
        if len(args) != 1 or self.charts is None:
            raise BadCommand(
                messages.bad_arguments(messages.USAGE["chart"], messages.GIVE_INCIDENT_ID)
            )
        incident = self.charts.incident(_number(args[0], "ID", messages.USAGE["chart"]))
        self.charts.post_soon(incident, user)
        return views.text_view(messages.chart_posting(incident.id))

    async def _predict(self, args: Sequence[str], user: str) -> Rendered:
        if len(args) > 1:
            raise BadCommand(
                messages.bad_arguments(messages.USAGE["predict"], messages.GIVE_AT_MOST_ONE_CHECK)
            )
        if self.predictor is None:
            return views.text_view(messages.models_off())
        check = args[0] if args else None
        if check is not None and check not in self.predictor.specs:
            raise UnknownCheck(check, sorted(self.predictor.specs))
        return views.text_view(messages.predict_report(self.predictor.report(check), check))

    def _remediation(self) -> Remediation:
        if self.remediation is None:
            raise UserError(messages.no_actions_configured())
        return self.remediation

    async def _reload(self, args: Sequence[str], user: str) -> Rendered:
        """Admins only: reload the config file now (the outcome is also posted as a notice)."""
        if user not in self.admins:
            return views.text_view(messages.admins_only("reload"))
        if self.reload is None:
            raise UserError(messages.reload_unavailable())
        return views.text_view(await self.reload(user))

    def reconfigure(self, *, admins: Sequence[str]) -> None:
        """A live reload's ``[slack] admins`` (who may reload, pause actions, decide loops)."""
        self.admins = set(admins)
