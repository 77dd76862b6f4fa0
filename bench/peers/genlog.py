#!/usr/bin/env python3
"""genlog.py HOSTS DOMAINS - a Postfix log of HOSTS inbound sessions
(connect + disconnect), each from a distinct client host name spread over
DOMAINS registrable domains, every 10th from one of three heavy hitters."""
import sys, time
n = int(sys.argv[1]); domains = int(sys.argv[2])
out = sys.stdout
t0 = 1795000000
buf = []
for i in range(n):
    ts = time.strftime("%b %d %H:%M:%S", time.gmtime(t0 + i // 4))
    if i % 10 == 0:
        host = ("mail-wr1-f54.google.com", "mail.outbound.protection.outlook.com", "a8-30.smtp-out.amazonses.com")[(i // 10) % 3]
    else:
        host = f"mx{i}.d{i % domains}.example"
    pid = 1000 + i % 7
    buf.append(f"{ts} mx postfix/smtpd[{pid}]: connect from {host}[192.0.2.{i % 250 + 1}]\n")
    buf.append(f"{ts} mx postfix/smtpd[{pid}]: disconnect from {host}[192.0.2.{i % 250 + 1}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n")
    if len(buf) > 10000:
        out.write("".join(buf)); buf = []
out.write("".join(buf))
