"""``python -m bot`` is the same as the ``selfreg`` command."""

from bot.cli import main

main()
