"""Regulation beyond restarts (issue 17): adaptive scaling (``band``, ``scaling``), the
safety rules every automatic move passes (``safety``), and how a move reaches the one policy
gate as a proposal on a "regulation" incident (``moves``)."""
