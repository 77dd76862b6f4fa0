"""test_omparse - the strict exposition parsers must accept valid and refuse invalid input,
or the OpenMetrics check of the daemon would prove nothing."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import omparse  # noqa: E402

GOOD_OM = [
    "# EOF\n",
    "# TYPE a counter\n# HELP a Some \\\"help\\\" \\\\ text\\n.\na_total 1\na_created 1.7e9\n# EOF\n",
    "# TYPE a counter\na_total{x=\"1\"} 1 # {trace_id=\"abc\"} 0.5 123\n# EOF\n",
    "# TYPE g gauge\n# UNIT g_seconds seconds\n# EOF\n",
    "# TYPE g_seconds gauge\n# UNIT g_seconds seconds\ng_seconds -Inf\ng_seconds{a=\"b\"} NaN\n# EOF",
    "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum -3\n# EOF\n",
    "# TYPE i info\ni_info{v=\"1\"} 1\n# EOF\n",
    "# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# EOF\n",
    "# TYPE q summary\nq{quantile=\"0.5\"} 3\nq_count 2\nq_sum 4\n# EOF\n",
    "u 1\nv{a=\"\\n\\\"\\\\\"} 2 1700000000.5\n# EOF\n",
]
BAD_OM = [
    ("", "EOF"),
    ("a 1\n", "EOF"),
    ("# EOF\na 1\n", "EOF"),
    ("a 1\n# EOF\n# EOF\n", "comment"),
    ("a 1\n\n# EOF\n", "empty line"),
    ("# comment\n# EOF\n", "comment"),
    ("# TYPE a_total counter\na_total 1\n# EOF\n", "not valid"),
    ("# TYPE a counter\na 1\n# EOF\n", "not valid"),
    ("# TYPE a counter\na_total -1\n# EOF\n", "negative"),
    ("# TYPE a counter\n# TYPE a counter\n# EOF\n", "second TYPE"),
    ("# TYPE a counter\na_total 1\n# HELP a x\n# EOF\n", "after its samples"),
    ("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n", "interleaved"),
    ("a{x=\"1\"} 1\na{x=\"1\"} 2\n# EOF\n", "duplicate sample"),
    ("a{x=\"1\",x=\"2\"} 1\n# EOF\n", "duplicate label"),
    ("a{1x=\"1\"} 1\n# EOF\n", "label name"),
    ("a{x=\"\\t\"} 1\n# EOF\n", "escape"),
    ("a  1\n# EOF\n", "value"),
    ("a 1 2 3\n# EOF\n", "value"),
    ("a 0x10\n# EOF\n", "invalid value"),
    ("a Inf\n# EOF\n", "invalid value"),
    ("# TYPE g gauge\n# UNIT g seconds\n# EOF\n", "suffix"),
    ("# TYPE g nonsense\n# EOF\n", "invalid type"),
    ("# HELP a say \"hi\"\n# EOF\n", "double quote"),
    ("# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n# EOF\n", "cumulative"),
    ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n# EOF\n", "+Inf"),
    ("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n# EOF\n", "_count"),
    ("# TYPE i info\ni_info 2\n# EOF\n", "info"),
    ("# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 1\ng{a=\"1\"} 1\n# EOF\n", "interleaved"),
    ("# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n", "exemplars"),
    ("a 1\r\n# EOF\n", "carriage"),
]
GOOD_TEXT = [
    "",
    "# HELP a_total Help with \"quotes\" and \\\\.\n# TYPE a_total counter\na_total 1\na_total{x=\"y\"} 2 1700000000000\n",
    "# some comment\nb 1\n\nc NaN\n",
    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
]
BAD_TEXT = [
    ("a 1", "newline"),
    ("# TYPE a counter\n# TYPE a counter\n", "second TYPE"),
    ("a 1\n# TYPE a counter\n", "after its samples"),
    ("a 1\nb 1\na{x=\"1\"} 1\n", "interleaved"),
    ("a 1\na 2\n", "duplicate"),
    ("# TYPE a counter\na -1\n", "negative"),
    ("a one\n", "invalid value"),
    ("a 1 1.5\n", "timestamp"),
]


def main():
    passed = failed = 0

    def ok(cond, what):
        nonlocal passed, failed
        print(("ok - " if cond else "not ok - ") + what)
        if cond:
            passed += 1
        else:
            failed += 1

    for t in GOOD_OM:
        try:
            omparse.parse_openmetrics(t)
            ok(True, f"OM accepts {t!r}")
        except omparse.ParseError as e:
            ok(False, f"OM accepts {t!r}: {e}")
    for t, why in BAD_OM:
        try:
            omparse.parse_openmetrics(t)
            ok(False, f"OM refuses {t!r}")
        except omparse.ParseError as e:
            ok(why.lower() in str(e).lower(), f"OM refuses {t!r} ({e})")
    for t in GOOD_TEXT:
        try:
            omparse.parse_text004(t)
            ok(True, f"0.0.4 accepts {t!r}")
        except omparse.ParseError as e:
            ok(False, f"0.0.4 accepts {t!r}: {e}")
    for t, why in BAD_TEXT:
        try:
            omparse.parse_text004(t)
            ok(False, f"0.0.4 refuses {t!r}")
        except omparse.ParseError as e:
            ok(why.lower() in str(e).lower(), f"0.0.4 refuses {t!r} ({e})")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
