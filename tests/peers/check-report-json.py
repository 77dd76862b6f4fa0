#!/usr/bin/env python3
"""Validate `report --format json` against report.schema.json (a small
validator for the keywords the schema uses: type, const, enum, required,
properties, additionalProperties, items, minimum, maximum, pattern, $ref) and check
exact figures of the golden scenario of test-report.c."""
import json
import re
import subprocess
import sys

TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])


def validate(v, s, root, path, errors):
    if "$ref" in s:
        ref = s["$ref"].split("/")[-1]
        validate(v, root["$defs"][ref], root, path, errors)
    if "type" in s:
        ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(is_type(v, t) for t in ts):
            errors.append(f"{path}: {v!r} is not {s['type']}")
            return
    if "const" in s and v != s["const"]:
        errors.append(f"{path}: {v!r} != {s['const']!r}")
    if "enum" in s and v not in s["enum"]:
        errors.append(f"{path}: {v!r} not in {s['enum']}")
    if "pattern" in s and isinstance(v, str) and not re.search(s["pattern"], v):
        errors.append(f"{path}: {v!r} does not match {s['pattern']}")
    if "minimum" in s and v < s["minimum"] or "maximum" in s and v > s["maximum"]:
        errors.append(f"{path}: {v!r} out of range")
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                errors.append(f"{path}: missing {k}")
        props = s.get("properties", {})
        for k, x in v.items():
            if k in props:
                validate(x, props[k], root, f"{path}.{k}", errors)
            elif isinstance(s.get("additionalProperties"), dict):
                validate(x, s["additionalProperties"], root, f"{path}.{k}", errors)
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            validate(x, s["items"], root, f"{path}[{i}]", errors)


def main():
    binary, schema_path = sys.argv[1], sys.argv[2]
    schema = json.load(open(schema_path))
    out = subprocess.run([binary, "--print", "json"], check=True, capture_output=True).stdout
    doc = json.loads(out)
    errors = []
    validate(doc, schema, schema, "$", errors)
    v = {x["syslog_name"]: x for x in doc["verdicts"]}
    expect = [
        (v["postfix"]["refused_mail_sessions"], 5), (v["postfix"]["peers"], 3),
        (v["postfix"]["mail_sessions"], 13), (v["postfix"]["share_of_mail"], 0.3846),
        ([p["peer"] for p in doc["inbound"]["plaintext_mail_peers"]], ["legacymail.co.uk", "unknown", "oldbank.example"]),
        ([p["peer"] for p in doc["inbound"]["legacy_protocol_peers"]], ["legacymail.co.uk", "oldbank.example"]),
        ([p["peer"] for p in doc["inbound"]["starttls_failure_peers"]], ["broken.example"]),
        (doc["inbound"]["starttls_failure_peers"][0]["failures"],
         [{"reason": "no_shared_cipher", "count": 2}, {"reason": "evil\x01|`reason", "count": 1}]),
        ([(d["destination"], d["policy"]) for d in doc["outbound"]["always_tls"]], [("gmail.com", "verify"), ("example.org", "encrypt"), ("lists.example.org", "encrypt")]),
        ([d["destination"] for d in doc["outbound"]["never_tls"]], ["plain.example.net"]),
        ([d["registrable_domain"] for d in doc["outbound"]["never_tls"]], ["example.net"]),
        ([d["destination"] for d in doc["outbound"]["mixed"]], ["mixed.example"]),
        ({d["destination"]: d["class"] for d in doc["outbound"]["destinations"]}["down.example"], "no_connection"),
        (doc["outbound"]["totals"]["without_connection"], 1),
        ([u["address"] for u in doc["inbound"]["unknown_clients"]], ["203.0.113.7", "2001:db8:1:2::5", "203.0.113.99"]),
        (doc["inbound"]["totals"]["sessions"], {"tls": 11, "plaintext": 7, "starttls_failed": 3}),
        (doc["tracking"]["late_events"], 1),
        (doc["window"]["seconds"], 259200),
        (sorted(doc["inbound"]["protocols"].items()), [("TLSv1", 1), ("TLSv1.1", 1), ("TLSv1.2", 1), ("TLSv1.3", 8)]),
    ]
    for i, (got, want) in enumerate(expect):
        if got != want:
            errors.append(f"figure {i}: got {got!r}, want {want!r}")
    for e in errors:
        print(e)
    print(f"report-json: {len(expect) + 1} passed, {len(errors)} failed" if not errors else f"report-json: 0 passed, {len(errors)} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
