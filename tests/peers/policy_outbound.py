#!/usr/bin/env python3
"""smtp_tls_policy_maps candidates per next-hop domain, exact, from
tests/peers/data/policy-outbound.log: a destination whose every delivery was
deferred for an expired certificate (no candidate), Verified deliveries with
the MX under the domain (secure) and elsewhere (verify), a DANE-verified one
(tls=dane: dane), Trusted (encrypt, with a bounce), and a plaintext one.

Usage: policy_outbound.py EXPORTER LOG"""
import json
import subprocess
import sys

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}")


def main():
    exe, log = sys.argv[1], sys.argv[2]
    out = subprocess.run([exe, "report", "--format=json", log], capture_output=True, text=True, check=True).stdout
    doc = json.loads(out)["outbound"]
    dest = {d["destination"]: d for d in doc["destinations"]}
    check(sorted(dest) == ["dane.example", "expired.example.com", "hosted.example.net", "plain.example.com",
                           "trusted.example.com", "verified.example.org"], f"destinations {sorted(dest)}")
    want = {  # destination: (sent, deferred, bounced, policy or None, registrable domain)
        "expired.example.com": (0, 2, 0, None, "example.com"),
        "verified.example.org": (2, 0, 0, "secure", "example.org"),
        "hosted.example.net": (1, 0, 0, "verify", "example.net"),
        "dane.example": (1, 0, 0, "dane", "dane.example"),
        "trusted.example.com": (1, 0, 1, "encrypt", "example.com"),
        "plain.example.com": (1, 0, 0, None, "example.com"),
    }
    for k, (sent, deferred, bounced, policy, group) in want.items():
        d = dest.get(k, {})
        got = (d.get("sent"), d.get("deferred"), d.get("bounced"), d.get("policy"), d.get("registrable_domain"))
        check(got == (sent, deferred, bounced, policy, group), f"{k}: got {got}")
    check(dest["verified.example.org"]["mx_hosts"] == ["mx1.verified.example.org", "mx2.verified.example.org"],
          "MX hosts of verified.example.org")
    lines = [l.split() for l in doc["policy_map"].splitlines() if l and not l.startswith("#")]
    check(lines == [["dane.example", "dane"], ["trusted.example.com", "encrypt"], ["hosted.example.net", "verify"],
                    ["verified.example.org", "secure"]], f"policy map lines {lines}")
    check([d["destination"] for d in doc["never_tls"]] == ["plain.example.com"], "never_tls")
    print(f"policy-outbound: {'0 failed' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
