"""Small PromQL helpers shared by the dashboard tests (no PromQL parser
needed: the expressions are also sent to promtool/Prometheus, which parse
them for real)."""
import re

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "start", "end", "inf", "nan",
}

# Grafana's built-in and our dashboard variables, substituted before an
# expression goes to Prometheus.
GRAFANA_VARS = ("$__rate_interval", "$__range", "$__interval", "$datasource",
                "$job", "$instance", "$host", "$syslog_name")


def _strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def selectors(expr):
    """[(metric_name or None, matcher_text)] for every {...} selector."""
    out = []
    for m in re.finditer(r'([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}', expr):
        out.append((m.group(1), m.group(2)))
    return out


def metric_names(expr):
    """Metric names referenced by an expression (best effort, see module doc)."""
    e = _strip_strings(expr)
    e = re.sub(r"\{[^{}]*\}", " ", e)                 # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                 # ranges / subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"@\s*(start|end)\s*\(\s*\)", " ", e)
    e = re.sub(r"\boffset\s+-?[0-9a-z$_]+", " ", e)
    names = set()
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        # numbers like 1e3 never start with a letter; durations were removed with []
        names.add(word)
    # selectors written as {__name__=~"..."} are not metric names of their own
    return names


def range_args(expr, func):
    """Range arguments of every call of func(): ['$__rate_interval', ...]."""
    out = []
    for m in re.finditer(r"\b%s\s*\(" % func, expr):
        depth, i = 1, m.end()
        while i < len(expr) and depth:
            if expr[i] == "(":
                depth += 1
            elif expr[i] == ")":
                depth -= 1
            i += 1
        inner = expr[m.end():i - 1]
        rng = re.findall(r"\[([^\]]*)\]", inner)
        out.append(rng[-1] if rng else None)
    return out


def split_top_level(expr, ops):
    """Split expr at top-level (depth 0) binary operators in ops (word or
    symbol); returns the operand strings. Modifiers such as `on (...)` that
    follow a set operator are dropped."""
    s = expr
    parts, depth, i, start = [], 0, 0, 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == '"':
            i += 1
            while i < n and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
            i += 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            for op in ops:
                if op[0].isalpha():
                    m = re.match(r"%s\b" % op, s[i:])
                    if m and (i == 0 or not (s[i - 1].isalnum() or s[i - 1] == "_")):
                        parts.append(s[start:i])
                        j = i + len(op)
                        mod = re.match(r"\s*(on|ignoring)\s*\([^)]*\)", s[j:])
                        if mod:
                            j += mod.end()
                        start = i = j
                        break
                else:
                    if s.startswith(op, i):
                        # do not split "=~", "!~" or a longer comparison operator
                        nxt = s[i + len(op):i + len(op) + 1]
                        if op in (">", "<") and nxt == "=":
                            continue
                        if op == "=" or (op in ("==", "!=") and nxt == "~"):
                            continue
                        parts.append(s[start:i])
                        j = i + len(op)
                        mod = re.match(r"\s*bool\b", s[j:])
                        if mod:
                            j += mod.end()
                        start = i = j
                        break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append(s[start:])
    return [p.strip() for p in parts if p.strip()]


def vector_operands(expr):
    """The operands of an alert expression: split at top-level and/or/unless,
    then at top-level comparisons. Pure number operands are dropped."""
    out = []
    for part in split_top_level(expr, ["and", "or", "unless"]):
        for side in split_top_level(part, [">=", "<=", "==", "!=", ">", "<"]):
            if re.fullmatch(r"[0-9.eE+-]+", side.strip()):
                continue
            out.append(side)
    return out


def substitute(expr, values):
    """Replace Grafana variables; longest names first ($__range vs $__range_s)."""
    for k in sorted(values, key=len, reverse=True):
        expr = expr.replace(k, values[k])
    return expr


def selector_strings(expr):
    """Every series selector of an expression as a standalone selector:
    name{matchers} for braced ones, the bare name for the others."""
    out, braced = [], set()
    for name, matchers in selectors(expr):
        out.append("%s{%s}" % (name or "", matchers))
        if name:
            braced.add(name)
    for name in sorted(metric_names(expr) - braced):
        out.append(name)
    return out
