"""Shared code every part of selfreg may import: ``bot`` and the plugin packages ``checks``,
``actions`` and ``models`` alike.

It imports nothing of the project (only the standard library and pydantic), so importing it
can never pull ``bot`` into a plugin. ``common.units``: the units an operator writes in
selfreg.toml (durations, percentages, byte sizes) and how durations and sizes are written back
for people: durations in two documented styles (``format_duration``: compact config notation
for table cells and configured values, sentence style for prose), sizes in config notation
(``format_size``; the module's docstring lists the two other byte styles that remain).
"""
