"""promtext - a strict little parser for the Prometheus text format 0.0.4,
enough to compare scrapes series by series."""
import re

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def _unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "\\": "\\", '"': '"'}.get(m.group(1), m.group(0)), v)


def parse(text):
    """Return {metric_name: {labels_tuple: value}}, labels_tuple being a
    sorted tuple of (name, value). Raises ValueError on a malformed line."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (n, line))
        name, lbl, val = m.group(1), m.group(2), m.group(3)
        labels = []
        pos = 0
        lbl = lbl or ""
        while pos < len(lbl):
            lm = _LABEL.match(lbl, pos)
            if not lm:
                raise ValueError("line %d: bad labels: %r" % (n, line))
            labels.append((lm.group(1), _unescape(lm.group(2))))
            pos = lm.end()
        key = tuple(sorted(labels))
        fam = out.setdefault(name, {})
        if key in fam:
            raise ValueError("line %d: duplicate series %r" % (n, line))
        fam[key] = float(val)
    return out


def series(name, **labels):
    """The key of one series as parse() builds it."""
    return name, tuple(sorted(labels.items()))


def nonzero(parsed, name):
    return {k: v for k, v in parsed.get(name, {}).items() if v != 0}


def fmt(key):
    return "{" + ",".join('%s="%s"' % kv for kv in key) + "}"
