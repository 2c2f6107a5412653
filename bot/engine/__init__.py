"""The engine: the one data flow from a scheduled check to a delivered transition."""
