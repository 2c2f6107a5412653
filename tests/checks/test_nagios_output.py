"""Reading plugin output as the Monitoring Plugins guidelines write it."""

from __future__ import annotations

import pytest

from checks.nagios import PerfDatum, parse_output, parse_perfdata


def test_the_first_line_is_the_summary_and_its_perfdata_follows_the_bar() -> None:
    output = parse_output("PING OK - Packet loss = 0%, RTA = 0.80 ms | rta=0.8ms;100;500;0 pl=0%\n")

    assert output.summary == "PING OK - Packet loss = 0%, RTA = 0.80 ms"
    assert output.perfdata == [
        PerfDatum("rta", pytest.approx(0.0008), "ms", "100", "500", "0", ""),
        PerfDatum("pl", 0.0, "%"),
    ]


def test_long_output_lines_and_the_perfdata_that_starts_among_them() -> None:
    text = (
        "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
        "/ 15272 MB (77%);\n"
        "/boot 68 MB (69%); | /boot=68MB;88;93;0;98\n"
        "/home=69357MB;253404;253409;0;253414\n"
    )

    output = parse_output(text)

    assert output.long_text == ["/ 15272 MB (77%);", "/boot 68 MB (69%);"]
    assert [(d.label, d.value) for d in output.perfdata] == [
        ("/", 2643 * 1024**2),
        ("/boot", 68 * 1024**2),
        ("/home", 69357 * 1024**2),
    ]
    assert output.perfdata[0].max == "5968" and not output.malformed


def test_quoted_labels_may_hold_spaces_equals_and_doubled_quotes() -> None:
    data, bad = parse_perfdata("'free space'=12KB 'a=b'=1 'it''s'=2c")

    assert [(d.label, d.value, d.uom) for d in data] == [
        ("free space", 12 * 1024, "KB"),
        ("a=b", 1, ""),
        ("it's", 2, "c"),
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("text", "seconds_or_bytes"),
    [("t=2s", 2), ("t=250ms", 0.25), ("t=40us", 0.00004), ("b=3B", 3), ("b=1TB", 1024**4)],
)
def test_times_become_seconds_and_sizes_bytes(text: str, seconds_or_bytes: float) -> None:
    [datum], _ = parse_perfdata(text)
    assert datum.value == pytest.approx(seconds_or_bytes)


def test_an_undetermined_value_ranges_and_empty_fields_are_kept_as_written() -> None:
    [datum], _ = parse_perfdata("users=U;@10:20;~:30;;")

    assert datum == PerfDatum("users", None, "", "@10:20", "~:30", "", "")


def test_what_is_not_perfdata_is_reported_and_the_rest_still_read() -> None:
    data, bad = parse_perfdata("load=1.5;2;4 garbage time=3parsecs 'open quote=1 x=2")

    assert [d.label for d in data] == ["load"]
    assert bad == ["garbage", "time=3parsecs", "'open quote=1 x=2"]


def test_empty_output_has_an_empty_summary() -> None:
    assert parse_output("") == parse_output("\n")
    assert parse_output("").summary == ""
