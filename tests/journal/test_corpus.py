#!/usr/bin/env python3
"""journal-corpus: the genuine corpus read from its journal files gives the
same metrics as read from its maillog file.

  --once --source.start=beginning --source.journal.file=postfix.journal
  --once --source.start=beginning --source.journal.file=postfix-legacy-format.journal
  --once --source.start=beginning --source.file=postfix-3.7-maillog.log

All three must agree family by family, except the source-specific health
families (source_up, journal_entries_read_total) and process_*. The journal
entries carry microsecond timestamps while the maillog has whole seconds (and
no year), so last_event_timestamp_seconds is compared on the second, modulo
whole years. Exact values are also asserted for the counts that are
independent of the parser: 2267 entries and lines.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jlib  # noqa: E402

LAST_TS = "postfix_tls_exporter_last_event_timestamp_seconds"


def same_second_modulo_years(a, b):
    """a and b name the same second, or the same second in another year
    (the maillog's year comes from the clock, the journal's is stored)."""
    d = abs(int(a) - int(b))
    return d % 86400 == 0 and d // 86400 in (0, 365, 366, 730, 731, 1095, 1096, 1461)


def main():
    jlib.require_tools(remote=False)
    corpus = jlib.CORPUS
    base = ["--source.start=beginning"]
    ref, _ = jlib.run_once(base + ["--source.file=" + jlib.MAILLOG])
    jlib.check(jlib.value(ref, "postfix_tls_exporter_lines_read_total") == jlib.CORPUS_ENTRIES,
               "maillog: lines_read %s" % jlib.value(ref, "postfix_tls_exporter_lines_read_total"))

    for name in ("postfix.journal", "postfix-legacy-format.journal"):
        got, err = jlib.run_once(base + ["--source.journal.file=" + os.path.join(corpus, name)])
        jlib.check(jlib.value(got, "postfix_tls_exporter_journal_entries_read_total") == jlib.CORPUS_ENTRIES,
                   "%s: journal_entries_read %s" % (name, jlib.value(got, "postfix_tls_exporter_journal_entries_read_total")))
        jlib.check(jlib.value(got, "postfix_tls_exporter_lines_read_total") == jlib.CORPUS_ENTRIES,
                   "%s: lines_read %s" % (name, jlib.value(got, "postfix_tls_exporter_lines_read_total")))
        jlib.check(jlib.value(got, "postfix_tls_exporter_source_up", '{source="journal"}') == 1,
                   "%s: source_up{source=\"journal\"} not 1" % name)
        a, b = jlib.value(ref, LAST_TS), jlib.value(got, LAST_TS)
        jlib.check(a is not None and b is not None and same_second_modulo_years(b, a),
                   "%s: last event %s vs maillog %s" % (name, b, a))
        diffs = jlib.diff_families(ref, got, skip={LAST_TS})
        jlib.check(not diffs, "%s differs from the maillog:\n%s" % (name, "\n".join(diffs)))
        n = sum(len(f["samples"]) for k, f in got.items() if jlib.comparable(k))
        print("ok - %s: %d families, %d series equal to the maillog" % (name, len(got), n))


if __name__ == "__main__":
    try:
        main()
    finally:
        jlib.cleanup()
