"""selfreg: a Slack-first, self-regulating monitor.

``__version__`` is the one place the version is written: pyproject.toml reads it from here
(hatch's dynamic version), and ``selfreg --version``, ``selfreg_build_info`` and backups show it.
"""

__version__ = "0.1.0"
