"""omparse - strict parsers for the two exposition formats the exporter serves.

parse_openmetrics() follows the OpenMetrics 1.0 specification
(prometheus.io/docs/specs/om/open_metrics_spec): its ABNF for lines, names,
label sets, numbers and escapes, and its semantic rules (MetricFamily
metadata before samples and at most once, families and Metrics not
interleaved, sample-name suffixes per type, unique MetricPoints, counters
non-negative, histogram buckets cumulative with +Inf and _count equal to
it, UNIT a suffix of the name, info == 1, stateset 0/1, exemplars only on
counters and buckets and at most 128 UTF-8 characters of labels, "# EOF"
last, no blank lines or other comments).

parse_text004() checks the Prometheus text format 0.0.4 the same way
(HELP/TYPE once and before the samples, groups not interleaved, escapes,
no duplicate series, trailing newline).

Both return {family: Family} and raise ParseError("line N: ...").
"""
import math
import re

METRICNAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABELNAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# OpenMetrics realnumber, or +/-Inf(inity), or NaN; case-insensitive specials.
OM_NUMBER = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[+-](?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    r"|[nN][aA][nN]\Z")
OM_TYPES = ("counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary", "unknown")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "unknown": ("",),
    "stateset": ("",),
    "info": ("_info",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
}


class ParseError(Exception):
    pass


class Family:
    def __init__(self, name, type_="unknown"):
        self.name = name
        self.type = type_
        self.help = None
        self.unit = None
        self.samples = []  # (sample_name, labels dict, value float, timestamp or None, exemplar or None)
        self.typed = False


def _number(s, lineno, what="value"):
    if not OM_NUMBER.fullmatch(s):
        raise ParseError(f"line {lineno}: invalid {what} {s!r}")
    low = s.lower()
    if low.endswith("inf") or low.endswith("infinity"):
        return math.inf if low[0] == "+" else -math.inf
    return float(s)


def _escaped(s, i, lineno, end_char, allow_quote_escape=True):
    """Read an escaped string from s[i:] up to end_char (or end); returns (text, next index)."""
    out = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == end_char:
            return "".join(out), i
        if c == "\\":
            if i + 1 >= n:
                raise ParseError(f"line {lineno}: dangling backslash")
            e = s[i + 1]
            if e == "\\":
                out.append("\\")
            elif e == "n":
                out.append("\n")
            elif e == '"' and allow_quote_escape:
                out.append('"')
            else:
                raise ParseError(f"line {lineno}: invalid escape \\{e}")
            i += 2
            continue
        if c == '"' and end_char == '"':
            return "".join(out), i
        if c == '"' and end_char is None and allow_quote_escape:
            # OpenMetrics normal-char excludes DQUOTE: it must be escaped in HELP too.
            raise ParseError(f"line {lineno}: unescaped double quote")
        out.append(c)
        i += 1
    if end_char is None:
        return "".join(out), i
    raise ParseError(f"line {lineno}: unterminated string")


def _labels(s, i, lineno):
    """Parse '{a="b",c="d"}' at s[i]; returns (dict, next index)."""
    assert s[i] == "{"
    i += 1
    labels = {}
    if i < len(s) and s[i] == "}":
        return labels, i + 1
    while True:
        m = LABELNAME.match(s, i)
        if not m:
            raise ParseError(f"line {lineno}: invalid label name at column {i + 1}")
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ParseError(f"line {lineno}: expected '=\"' after label {name}")
        value, i = _escaped(s, i + 2, lineno, '"')
        i += 1
        if name in labels:
            raise ParseError(f"line {lineno}: duplicate label {name}")
        labels[name] = value
        if i >= len(s):
            raise ParseError(f"line {lineno}: unterminated label set")
        if s[i] == "}":
            return labels, i + 1
        if s[i] != ",":
            raise ParseError(f"line {lineno}: expected ',' or '}}' in label set")
        i += 1


def _label_key(labels, drop=()):
    return tuple(sorted((k, v) for k, v in labels.items() if k not in drop))


def parse_openmetrics(text):
    if text.startswith("\ufeff"):
        raise ParseError("line 1: byte order mark")
    if "\r" in text:
        raise ParseError("carriage return in exposition")
    if not text.endswith("# EOF\n") and not text.endswith("# EOF"):
        raise ParseError("exposition does not end with '# EOF'")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if lines[-1] != "# EOF":
        raise ParseError(f"line {len(lines)}: last line is not '# EOF'")
    families = {}
    sample_owner = {}  # sample name -> family name (names must not clash across families)
    cur = None
    seen_metrics = set()  # (family, metric label key) already closed
    cur_metric = None
    points = set()
    for lineno, line in enumerate(lines[:-1], 1):
        if line == "":
            raise ParseError(f"line {lineno}: empty line")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[0] != "#" or parts[1] not in ("TYPE", "HELP", "UNIT"):
                raise ParseError(f"line {lineno}: comment lines other than TYPE/HELP/UNIT/EOF are not allowed: {line!r}")
            kind, name = parts[1], parts[2]
            if not METRICNAME.fullmatch(name):
                raise ParseError(f"line {lineno}: invalid metric family name {name!r}")
            rest = parts[3] if len(parts) == 4 else None
            if cur is None or cur.name != name:
                if name in families:
                    raise ParseError(f"line {lineno}: metric family {name} is interleaved (seen before)")
                cur = Family(name)
                families[name] = cur
                cur_metric = None
            if cur.samples:
                raise ParseError(f"line {lineno}: {kind} for {name} after its samples")
            if kind == "TYPE":
                if cur.typed:
                    raise ParseError(f"line {lineno}: second TYPE for {name}")
                if rest not in OM_TYPES:
                    raise ParseError(f"line {lineno}: invalid type {rest!r}")
                cur.type, cur.typed = rest, True
            elif kind == "HELP":
                if cur.help is not None:
                    raise ParseError(f"line {lineno}: second HELP for {name}")
                cur.help, _ = _escaped(rest or "", 0, lineno, None)
            else:
                if cur.unit is not None:
                    raise ParseError(f"line {lineno}: second UNIT for {name}")
                unit = rest or ""
                if unit and not re.fullmatch(r"[a-zA-Z0-9_:]*", unit):
                    raise ParseError(f"line {lineno}: invalid unit {unit!r}")
                if unit and not name.endswith("_" + unit):
                    raise ParseError(f"line {lineno}: unit {unit} is not a suffix of {name}")
                cur.unit = unit
            continue

        m = METRICNAME.match(line)
        if not m:
            raise ParseError(f"line {lineno}: invalid sample name")
        sname = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _labels(line, i, lineno)
        if line[i:i + 1] != " ":
            raise ParseError(f"line {lineno}: expected a single space before the value")
        rest = line[i + 1:]
        exemplar = None
        if " # " in rest:
            rest, ex = rest.split(" # ", 1)
            if not ex.startswith("{"):
                raise ParseError(f"line {lineno}: exemplar without label set")
            exl, j = _labels(ex, 0, lineno)
            if len("".join(k + v for k, v in exl.items())) > 128:
                raise ParseError(f"line {lineno}: exemplar labels longer than 128 characters")
            exrest = ex[j:].split(" ")
            if exrest[0] != "" or len(exrest) not in (2, 3):
                raise ParseError(f"line {lineno}: malformed exemplar")
            exemplar = (exl, _number(exrest[1], lineno, "exemplar value"))
            if len(exrest) == 3:
                _number(exrest[2], lineno, "exemplar timestamp")
        fields = rest.split(" ")
        if len(fields) not in (1, 2) or "" in fields:
            raise ParseError(f"line {lineno}: expected 'value [timestamp]' after the labels, got {rest!r}")
        value = _number(fields[0], lineno)
        ts = _number(fields[1], lineno, "timestamp") if len(fields) == 2 else None

        # Which family does this sample belong to?
        fam = None
        if cur is not None:
            for suf in SUFFIXES[cur.type]:
                if sname == cur.name + suf:
                    fam = cur
                    break
        if fam is None:
            if cur is not None and cur.typed and any(sname == cur.name + s for t in SUFFIXES.values() for s in t):
                raise ParseError(f"line {lineno}: sample {sname} is not valid for {cur.type} {cur.name}")
            # An untyped sample starts a new family of type unknown, named like the sample.
            if sname in families:
                raise ParseError(f"line {lineno}: metric family {sname} is interleaved (seen before)")
            cur = Family(sname)
            families[sname] = cur
            cur_metric = None
            fam = cur
        owner = sample_owner.setdefault(sname, fam.name)
        if owner != fam.name:
            raise ParseError(f"line {lineno}: sample name {sname} clashes with family {owner}")
        suffix = sname[len(fam.name):]

        # Type-specific rules.
        t = fam.type
        # Counter-like values "MUST NOT be NaN or negative"; histogram sums may be.
        if (t == "counter" and suffix in ("_total", "_created")) or (
                t in ("histogram", "summary") and suffix in ("_count", "_bucket", "_created")) or (
                t == "gaugehistogram" and suffix in ("_bucket", "_gcount")):
            if math.isnan(value) or value < 0:
                raise ParseError(f"line {lineno}: {t} sample {sname} must not be negative or NaN")
        if t == "info" and value != 1:
            raise ParseError(f"line {lineno}: info value must be 1")
        if t == "stateset":
            if fam.name not in labels:
                raise ParseError(f"line {lineno}: stateset sample without label {fam.name}")
            if value not in (0, 1):
                raise ParseError(f"line {lineno}: stateset value must be 0 or 1")
        if suffix == "_bucket":
            if "le" not in labels:
                raise ParseError(f"line {lineno}: bucket without le label")
            _number(labels["le"], lineno, "le")
        if t == "summary" and suffix == "" and "quantile" not in labels:
            raise ParseError(f"line {lineno}: summary quantile sample without quantile label")
        if exemplar is not None and not (suffix == "_total" and t == "counter" or suffix == "_bucket"):
            raise ParseError(f"line {lineno}: exemplars are only allowed on counters and buckets")

        # Metrics (label sets without le/quantile) must not be interleaved.
        mkey = (fam.name, _label_key(labels, ("le", "quantile")))
        if mkey != cur_metric:
            if mkey in seen_metrics:
                raise ParseError(f"line {lineno}: samples of metric {fam.name}{dict(mkey[1])} are interleaved")
            if cur_metric is not None:
                seen_metrics.add(cur_metric)
            cur_metric = mkey
        point = (sname, _label_key(labels), ts)
        if point in points:
            raise ParseError(f"line {lineno}: duplicate sample {sname}{labels}")
        points.add(point)
        fam.samples.append((sname, labels, value, ts, exemplar))

    for f in families.values():
        _check_family(f)
    return families


def _check_family(f):
    if f.type in ("histogram", "gaugehistogram"):
        groups = {}
        for sname, labels, value, _, _ in f.samples:
            groups.setdefault(_label_key(labels, ("le",)), []).append((sname, labels, value))
        count_suffix = "_count" if f.type == "histogram" else "_gcount"
        for key, samples in groups.items():
            buckets = [(float(_number(l["le"], 0, "le")), v) for s, l, v in samples if s == f.name + "_bucket"]
            if not buckets:
                raise ParseError(f"{f.name}{dict(key)}: histogram without buckets")
            les = [b[0] for b in buckets]
            if les != sorted(les) or len(set(les)) != len(les):
                raise ParseError(f"{f.name}{dict(key)}: buckets not in increasing le order")
            if les[-1] != math.inf:
                raise ParseError(f"{f.name}{dict(key)}: no +Inf bucket")
            vals = [b[1] for b in buckets]
            if any(b > a for b, a in zip(vals, vals[1:])):
                raise ParseError(f"{f.name}{dict(key)}: buckets are not cumulative")
            counts = [v for s, _, v in samples if s == f.name + count_suffix]
            if counts and counts[0] != vals[-1]:
                raise ParseError(f"{f.name}{dict(key)}: {count_suffix} != +Inf bucket")
    if f.type == "counter" and not any(s == f.name + "_total" for s, *_ in f.samples) and f.samples:
        raise ParseError(f"{f.name}: counter samples without _total")


def parse_text004(text):
    """Prometheus text format 0.0.4."""
    if text and not text.endswith("\n"):
        raise ParseError("exposition does not end with a newline")
    families = {}
    cur = None
    closed = set()
    series = set()
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRICNAME.fullmatch(name):
                    raise ParseError(f"line {lineno}: invalid metric name {name!r}")
                f = families.get(name)
                if f is None:
                    if name in closed:
                        raise ParseError(f"line {lineno}: {name} interleaved")
                    f = families[name] = Family(name, "untyped")
                if cur is not None and cur.name != name:
                    closed.add(cur.name)
                cur = f
                if f.samples:
                    raise ParseError(f"line {lineno}: {parts[1]} for {name} after its samples")
                if parts[1] == "TYPE":
                    if f.typed:
                        raise ParseError(f"line {lineno}: second TYPE for {name}")
                    t = parts[3] if len(parts) == 4 else ""
                    if t not in ("counter", "gauge", "histogram", "summary", "untyped"):
                        raise ParseError(f"line {lineno}: invalid type {t!r}")
                    f.type, f.typed = t, True
                else:
                    if f.help is not None:
                        raise ParseError(f"line {lineno}: second HELP for {name}")
                    # 0.0.4 HELP escapes only backslash and newline.
                    f.help, _ = _escaped(line.split(" ", 3)[3] if len(parts) == 4 else "", 0, lineno, None,
                                         allow_quote_escape=False)
            continue
        m = METRICNAME.match(line)
        if not m:
            raise ParseError(f"line {lineno}: invalid sample name")
        sname = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _labels(line, i, lineno)
        fields = line[i:].split()
        if not line[i:i + 1].isspace() or len(fields) not in (1, 2):
            raise ParseError(f"line {lineno}: expected 'value [timestamp]'")
        v = fields[0]
        if v not in ("+Inf", "-Inf", "NaN"):
            try:
                value = float(v)
            except ValueError:
                raise ParseError(f"line {lineno}: invalid value {v!r}")
        else:
            value = float(v.replace("Inf", "inf").replace("NaN", "nan"))
        if len(fields) == 2 and not re.fullmatch(r"-?[0-9]+", fields[1]):
            raise ParseError(f"line {lineno}: invalid timestamp {fields[1]!r}")
        base = sname
        for suf in ("_bucket", "_count", "_sum"):
            if sname.endswith(suf) and sname[: -len(suf)] in families and families[sname[: -len(suf)]].type in ("histogram", "summary"):
                base = sname[: -len(suf)]
        f = families.get(base)
        if f is None:
            if base in closed:
                raise ParseError(f"line {lineno}: {base} interleaved")
            f = families[base] = Family(base, "untyped")
        if cur is not None and cur is not f:
            if f.samples and f.name in closed:
                raise ParseError(f"line {lineno}: {base} interleaved")
            closed.add(cur.name)
        cur = f
        key = (sname, _label_key(labels))
        if key in series:
            raise ParseError(f"line {lineno}: duplicate series {sname}{labels}")
        series.add(key)
        if f.type == "counter" and (math.isnan(value) or value < 0):
            raise ParseError(f"line {lineno}: negative counter")
        f.samples.append((sname, labels, value, None, None))
    return families


def series_values(families):
    """{(sample name, sorted label tuple): value} for comparing two expositions."""
    out = {}
    for f in families.values():
        for sname, labels, value, _, _ in f.samples:
            out[(sname, _label_key(labels))] = value
    return out
