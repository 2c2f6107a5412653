"""The configuration: ``selfreg.toml`` (plus an optional overlay) and the environment.

The names every other module uses are re-exported here: ``from bot.config import X``.
"""

from bot.config.alerts import AlertsSettings, SlackSettings
from bot.config.backup import BackupSettings
from bot.config.lifecycle import HeartbeatSettings, ReloadSettings
from bot.config.schema import (
    ENVIRONMENT_VARIABLES,
    SLACK_MODES,
    ActionEntry,
    CheckEntry,
    ComponentSettings,
    CrashLoopSettings,
    HealthSettings,
    LoadedConfig,
    ModelsSettings,
    RemediationSettings,
    Section,
    Settings,
    SlackConnection,
    StoreSettings,
    WebSettings,
    bundled_example,
    config_path,
    load_settings,
    merge_overlay,
    overlay_path,
    slack_connection,
    validate,
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
