"""The configuration: ``selfreg.toml`` (plus an optional overlay) and the environment.

Split by stage:

- ``schema`` (with ``base``, ``alerts``, ``components``, ``backup``, ``lifecycle``): the shape
  of the file, one pydantic model per table, and ``Settings``, the whole file;
- ``environment``: the variables selfreg reads (secrets and deployment settings come only from
  there) and the Slack connection they decide;
- ``loading``: ``load_settings``: files, overlay and environment merged, into ``LoadedConfig``;
- ``problems``: pydantic's errors as problems an operator reads (file, key path, value);
- ``docs``: ``docs/config.md``, generated from the models (imported only by who prints it).

Every name other modules use is re-exported here: ``from bot.config import X``.
"""

from bot.config.alerts import AlertsSettings, SlackSettings
from bot.config.backup import BackupSettings
from bot.config.base import Section
from bot.config.components import ComponentSettings, CrashLoopSettings, HealthSettings
from bot.config.environment import (
    ENVIRONMENT_VARIABLES,
    SLACK_MODES,
    SlackConnection,
    slack_connection,
)
from bot.config.lifecycle import HeartbeatSettings, ReloadSettings
from bot.config.loading import (
    LoadedConfig,
    bundled_example,
    config_path,
    load_settings,
    merge_overlay,
    overlay_path,
)
from bot.config.problems import validate
from bot.config.schema import (
    ActionEntry,
    CheckEntry,
    ModelsSettings,
    RemediationSettings,
    Settings,
    StoreSettings,
    WebSettings,
)

__all__ = [
    "ENVIRONMENT_VARIABLES",
    "SLACK_MODES",
    "ActionEntry",
    "AlertsSettings",
    "BackupSettings",
    "CheckEntry",
    "ComponentSettings",
    "CrashLoopSettings",
    "HealthSettings",
    "HeartbeatSettings",
    "LoadedConfig",
    "ModelsSettings",
    "ReloadSettings",
    "RemediationSettings",
    "Section",
    "Settings",
    "SlackConnection",
    "SlackSettings",
    "StoreSettings",
    "WebSettings",
    "bundled_example",
    "config_path",
    "load_settings",
    "merge_overlay",
    "overlay_path",
    "slack_connection",
    "validate",
]
