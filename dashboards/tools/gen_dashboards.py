#!/usr/bin/env python3
"""Generate the Grafana dashboards in dashboards/grafana/ (classic JSON model).

The JSON files are what users import and what the tests read; this script is
how they are written, so that layout, ids, datasource references and
variables stay uniform.  Edit this file, then run

    python3 dashboards/tools/gen_dashboards.py

and commit both.  `dashboards/tests/lint_dashboards.py` fails when the JSON
files differ from this script's output.

Conventions (checked by the lint script):
  * every panel and target uses {"type": "prometheus", "uid": "${datasource}"};
  * rate()/irate() always take [$__rate_interval]; increase() takes
    [$__rate_interval] in time series panels and [$__range] in instant
    (stat/table) panels, which answer "how many in the selected period";
  * every query filters job=~"$job",instance=~"$instance" and, for the
    log-derived families, host=~"$host" and syslog_name=~"$syslog_name"
    (the peer families: host only). `host` is the MTA of a central exporter
    (--postfix.host-label); its "All" value is ".*", which also matches the
    series of exporters that do not set it, so the variable works either way;
  * stat panels reduce to one value over all selected instances (sum), time
    series either sum over the fleet or split `by (instance)`.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "grafana")

DS = {"type": "prometheus", "uid": "${datasource}"}
TSEL = 'job=~"$job",instance=~"$instance"'
HSEL = TSEL + ',host=~"$host"'  # the peer families
SEL = HSEL + ',syslog_name=~"$syslog_name"'
LEGACY = 'protocol=~"SSLv2|SSLv3|TLSv1|TLSv1\\\\.1"'

SESS = "postfix_tls_inbound_sessions_total"
CONN = "postfix_tls_inbound_connections_total"
HS_IN = "postfix_tls_inbound_handshakes_total"
HS_OUT = "postfix_tls_outbound_handshakes_total"
FAIL_IN = "postfix_tls_inbound_tls_failures_total"
FAIL_OUT = "postfix_tls_outbound_tls_failures_total"
DELIV = "postfix_tls_outbound_deliveries_total"
PEER_IN = "postfix_tls_inbound_peer_sessions_total"
PEER_OUT = "postfix_tls_outbound_peer_deliveries_total"

# colours
GREEN, YELLOW, ORANGE, RED, BLUE, PURPLE = "green", "yellow", "orange", "red", "blue", "purple"
PROTOCOL_COLORS = {"TLSv1.3": "green", "TLSv1.2": "blue", "TLSv1.1": "orange",
                   "TLSv1": "red", "SSLv3": "dark-red", "SSLv2": "dark-red"}
TRUST_COLORS = {"verified": "green", "trusted": "blue", "untrusted": "orange",
                "anonymous": "yellow", "none": "red"}
ENCRYPTION_COLORS = {"tls": "green", "plaintext": "red", "starttls_failed": "orange"}
STATUS_COLORS = {"sent": "green", "deferred": "orange", "bounced": "red"}


def sel(metric, extra="", base=SEL):
    return "%s{%s%s}" % (metric, base, ("," + extra) if extra else "")


def rate(metric, extra="", base=SEL):
    return "rate(%s[$__rate_interval])" % sel(metric, extra, base)


def inc_range(metric, extra="", base=SEL):
    return "increase(%s[$__range])" % sel(metric, extra, base)


def share(num, den):
    """num/den where num may have no series (then 0, not "no data")."""
    return "(%s or %s * 0) / %s" % (num, den, den)


def share_on(num, den, on):
    return "(%s or on (%s) %s * 0) / %s" % (num, on, den, den)


# --------------------------------------------------------------------------
# panel builders


def target(expr, legend="__auto", ref="A", instant=False, fmt=None):
    t = {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend,
        "range": not instant,
        "instant": instant,
        "refId": ref,
    }
    if fmt or instant:
        t["format"] = fmt or "table"
    return t


def thresholds(*steps):
    """steps: (color, value) with the first value None (base)."""
    return {"mode": "absolute",
            "steps": [{"color": c, "value": v} for c, v in steps]}


NEUTRAL = thresholds((BLUE, None))


def color_overrides(colors):
    return [{"matcher": {"id": "byName", "options": name},
             "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": col}}]}
            for name, col in colors.items()]


def base_panel(ptype, title, description, unit, targets, w, h, thr=None,
               decimals=None, min_=None, max_=None, overrides=None, links=None):
    defaults = {"unit": unit, "thresholds": thr or NEUTRAL,
                "color": {"mode": "thresholds" if ptype in ("stat", "bargauge") else "palette-classic"},
                "mappings": []}
    if decimals is not None:
        defaults["decimals"] = decimals
    if min_ is not None:
        defaults["min"] = min_
    if max_ is not None:
        defaults["max"] = max_
    if links:
        defaults["links"] = links
    return {
        "type": ptype,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": {},
        "_size": (w, h),
    }


def stat(title, description, expr, unit="short", thr=None, decimals=None, color_mode="value", w=3, h=4):
    p = base_panel("stat", title, description, unit,
                   [target(expr, legend=title, instant=True, fmt="time_series")],
                   w=w, h=h, thr=thr, decimals=decimals)
    if unit == "percentunit":
        p["fieldConfig"]["defaults"].update({"min": 0, "max": 1})
    p["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": color_mode,
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "value",
        "text": {},
        "showPercentChange": False,
        "wideLayout": True,
    }
    return p


def timeseries(title, description, targets, unit, w=12, h=8, stack=None, thr=None,
               min_=None, max_=None, overrides=None, fill=10, bars=False, thr_style="off"):
    p = base_panel("timeseries", title, description, unit, targets, w, h, thr=thr,
                   min_=min_, max_=max_, overrides=overrides)
    p["fieldConfig"]["defaults"]["custom"] = {
        "drawStyle": "bars" if bars else "line",
        "lineWidth": 1,
        "fillOpacity": 80 if bars else (60 if stack else fill),
        "gradientMode": "none",
        "showPoints": "never",
        "spanNulls": False,
        "lineInterpolation": "linear",
        "axisPlacement": "auto",
        "axisSoftMin": 0,
        "stacking": {"mode": stack or "none", "group": "A"},
        "thresholdsStyle": {"mode": thr_style},
    }
    p["options"] = {
        "legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                   "calcs": ["mean", "lastNotNull"]},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return p


def table(title, description, targets, unit="short", w=12, h=8, transformations=None,
          overrides=None, sort=None, thr=None):
    p = base_panel("table", title, description, unit, targets, w, h, thr=thr,
                   overrides=overrides)
    p["fieldConfig"]["defaults"]["custom"] = {"align": "auto", "cellOptions": {"type": "auto"},
                                              "inspect": False}
    p["options"] = {"showHeader": True, "cellHeight": "sm", "frameIndex": 0,
                    "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": []}}
    if sort:
        p["options"]["sortBy"] = [{"displayName": sort, "desc": True}]
    p["transformations"] = transformations or []
    return p


def state_timeline(title, description, targets, w=12, h=8):
    p = base_panel("state-timeline", title, description, "none", targets, w, h,
                   thr=thresholds((RED, None), (GREEN, 1)))
    p["fieldConfig"]["defaults"]["mappings"] = [{
        "type": "value",
        "options": {"0": {"text": "down", "color": "red", "index": 0},
                    "1": {"text": "up", "color": "green", "index": 1}},
    }]
    p["fieldConfig"]["defaults"]["custom"] = {"lineWidth": 0, "fillOpacity": 80}
    p["options"] = {"showValue": "never", "mergeValues": True, "rowHeight": 0.9,
                    "alignValue": "left",
                    "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False, "calcs": []},
                    "tooltip": {"mode": "single", "sort": "none"}}
    return p


def column_override(name, unit=None, display=None, decimals=None, extra=None):
    props = []
    if display:
        props.append({"id": "displayName", "value": display})
    if unit:
        props.append({"id": "unit", "value": unit})
    if decimals is not None:
        props.append({"id": "decimals", "value": decimals})
    props += extra or []
    return {"matcher": {"id": "byName", "options": name}, "properties": props}


def merge_organize(rename, exclude=("Time",), order=None):
    org = {"excludeByName": {k: True for k in exclude}, "renameByName": rename,
           "indexByName": {k: i for i, k in enumerate(order or [])}}
    return [{"id": "merge", "options": {}}, {"id": "organize", "options": org}]


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "_size": (24, 1)}


# --------------------------------------------------------------------------
# dashboard assembly


def variable_datasource():
    return {"name": "datasource", "label": "Data source", "type": "datasource",
            "query": "prometheus", "current": {"selected": False, "text": "default", "value": "default"}, "hide": 0, "includeAll": False,
            "multi": False, "options": [], "refresh": 1, "regex": "", "skipUrlSync": False}


def variable_query(name, label, query, all_value=".+"):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "regex": "", "sort": 1, "multi": True, "includeAll": True,
            "allValue": all_value, "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "hide": 0, "options": [], "skipUrlSync": False}


VARIABLES = [
    variable_datasource(),
    variable_query("job", "job", "label_values(postfix_tls_exporter_build_info, job)"),
    variable_query("instance", "instance",
                   'label_values(postfix_tls_exporter_build_info{job=~"$job"}, instance)'),
    # Empty for exporters without --postfix.host-label: "All" (.*) then
    # matches their series, which have no host label.
    variable_query("host", "host",
                   'label_values({__name__=~"postfix_tls_(inbound_connections|inbound_sessions|outbound_deliveries)_total",job=~"$job",instance=~"$instance"}, host)',
                   all_value=".*"),
    variable_query("syslog_name", "syslog_name",
                   'label_values({__name__=~"postfix_tls_(inbound_connections|inbound_sessions|inbound_handshakes|outbound_handshakes|outbound_deliveries)_total",job=~"$job",instance=~"$instance",host=~"$host"}, syslog_name)'),
]


def layout(items):
    """Place panels left to right, wrapping at 24 columns; ids in order."""
    x = y = rowh = 0
    out = []
    for pid, p in enumerate(items, start=1):
        w, h = p.pop("_size")
        if p["type"] == "row" or x + w > 24:
            y += rowh
            x = rowh = 0
        p["id"] = pid
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        out.append(p)
        x += w
        rowh = max(rowh, h)
        if p["type"] == "row":
            y += 1
            x = rowh = 0
    return out


def dashboard(uid, title, description, panels, tags_extra=()):
    return {
        "id": None,
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["postfix", "tls", "prometheus", "postfix-tls"] + list(tags_extra),
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "refresh": "1m",
        "schemaVersion": 38,
        "version": 1,
        "weekStart": "",
        "time": {"from": "now-24h", "to": "now"},
        "timepicker": {},
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": [{"type": "dashboards", "tags": ["postfix-tls"], "asDropdown": False,
                   "includeVars": True, "keepTime": True, "title": "Postfix TLS",
                   "icon": "external link", "targetBlank": False, "tooltip": "", "url": ""}],
        "templating": {"list": VARIABLES},
        "panels": layout(panels),
    }


# --------------------------------------------------------------------------
# Overview

def sum_inc(metric, extra="", base=SEL):
    return "sum(%s)" % inc_range(metric, extra, base)


def sum_rate(metric, extra="", by=None, base=SEL):
    return "sum%s(%s)" % (" by (%s) " % by if by else "", rate(metric, extra, base))


def overview():
    good_share = thresholds((RED, None), (ORANGE, 0.8), (GREEN, 0.95))
    bad_share = thresholds((GREEN, None), (ORANGE, 0.05), (RED, 0.2))
    p = []
    p.append(row("Inbound: how much mail arrives over TLS (selected period)"))
    p.append(stat(
        "TLS share of sessions with mail",
        "Headline. Of the inbound SMTP sessions in the selected period in which Postfix accepted a message "
        "(mail=\"true\"), the share that was protected by TLS (STARTTLS or implicit TLS). "
        "sessions{encryption=\"tls\",mail=\"true\"} / sessions{mail=\"true\"}, summed over the selected instances "
        "and syslog names. Red below 80%, green from 95%.",
        share(sum_inc(SESS, 'encryption="tls",mail="true"'), sum_inc(SESS, 'mail="true"')),
        unit="percentunit", thr=good_share, decimals=1, color_mode="background"))
    p.append(stat(
        "Plaintext share of sessions with mail",
        "Of the inbound sessions that delivered mail in the selected period, the share that used no TLS at all: "
        "the mail that enforcing TLS (smtpd_tls_security_level=encrypt) would have refused. "
        "Green below 5%, red from 20%.",
        share(sum_inc(SESS, 'encryption="plaintext",mail="true"'), sum_inc(SESS, 'mail="true"')),
        unit="percentunit", thr=bad_share, decimals=1, color_mode="background"))
    p.append(stat(
        "TLS share of all sessions",
        "Share of all ended inbound sessions (with or without mail) that completed a TLS handshake, "
        "including scanners and clients that only connect.",
        share(sum_inc(SESS, 'encryption="tls"'), sum_inc(SESS)),
        unit="percentunit", thr=good_share, decimals=1, color_mode="background"))
    p.append(stat(
        "Inbound connections",
        "Client connections accepted by smtpd (and by postscreen when not handed to smtpd) in the selected period.",
        sum_inc(CONN), decimals=0))
    p.append(stat(
        "TLS sessions",
        "Inbound sessions in the selected period that completed a TLS handshake (encryption=\"tls\").",
        sum_inc(SESS, 'encryption="tls"'), decimals=0))
    p.append(stat(
        "Sessions with mail",
        "Inbound sessions in the selected period in which at least one message was accepted (mail=\"true\").",
        sum_inc(SESS, 'mail="true"'), decimals=0))
    p.append(stat(
        "Mail sessions over TLS",
        "Inbound sessions in the selected period that were encrypted and delivered mail.",
        sum_inc(SESS, 'encryption="tls",mail="true"'), decimals=0))
    p.append(stat(
        "Failed STARTTLS sessions",
        "Inbound sessions in the selected period that attempted TLS (STARTTLS or implicit TLS) and failed the "
        "handshake (encryption=\"starttls_failed\"). The reasons are in the STARTTLS failure panels below.",
        "%s or vector(0)" % sum_inc(SESS, 'encryption="starttls_failed"'), decimals=0,
        thr=thresholds((GREEN, None), (ORANGE, 1))))

    p.append(row("Inbound: TLS share over time"))
    p.append(timeseries(
        "Inbound TLS share",
        "Headline over time: share of inbound sessions that used TLS, for the sessions that delivered mail "
        "and for all sessions, over the selected instances. Each point covers one $__rate_interval. "
        "Red below 80%, orange below 95%.",
        [target(share(sum_rate(SESS, 'encryption="tls",mail="true"'), sum_rate(SESS, 'mail="true"')),
                "sessions with mail", "A"),
         target(share(sum_rate(SESS, 'encryption="tls"'), sum_rate(SESS)), "all sessions", "B")],
        "percentunit", min_=0, max_=1, thr=good_share, thr_style="area"))
    p.append(timeseries(
        "Plaintext share of sessions with mail, by instance",
        "For each exporter instance: share of the inbound sessions that delivered mail without TLS. "
        "Compare servers of a fleet; a single high line points to one MX that clients reach without TLS.",
        [target(share_on(sum_rate(SESS, 'encryption="plaintext",mail="true"', by="instance"),
                         sum_rate(SESS, 'mail="true"', by="instance"), "instance"),
                "{{instance}}", "A")],
        "percentunit", min_=0, max_=1, thr=bad_share, thr_style="line"))
    p.append(timeseries(
        "Inbound sessions by encryption and mail",
        "Ended inbound sessions per second, stacked by encryption (tls, plaintext, starttls_failed) and by "
        "whether a message was accepted. The denominators of the shares above.",
        [target(sum_rate(SESS, by="encryption, mail"), "{{encryption}}, mail={{mail}}", "A")],
        "cps", stack="normal",
        overrides=color_overrides({"tls, mail=true": "green", "tls, mail=false": "light-green",
                                   "plaintext, mail=true": "red", "plaintext, mail=false": "light-red",
                                   "starttls_failed, mail=false": "orange"})))
    p.append(timeseries(
        "Inbound connections by syslog name",
        "Client connections per second for each Postfix service (syslog name before /smtpd, e.g. postfix, "
        "postfix/submission, postfix/smtps), summed over the selected instances.",
        [target(sum_rate(CONN, by="syslog_name"), "{{syslog_name}}", "A")], "cps", stack="normal"))

    p.append(row("Inbound: STARTTLS failures"))
    p.append(timeseries(
        "STARTTLS failure rate by reason",
        "Failed inbound TLS attempts per second by the most specific reason the log gives "
        "(e.g. no_shared_cipher, unsupported_protocol, wrong_version_number, unknown_ca, lost_connection, timeout). "
        "A spike of one reason after a configuration change points to the cause.",
        [target(sum_rate(FAIL_IN, by="reason"), "{{reason}}", "A")], "cps", stack="normal", bars=True))
    p.append(timeseries(
        "Failed share of TLS attempts",
        "Share of inbound sessions that attempted TLS and failed the handshake: "
        "starttls_failed / (tls + starttls_failed). Orange from 5%, red from 10% "
        "(the PostfixTLSStartTLSFailureSpike alert fires at 10% and 3 times the 1-day share).",
        [target(share(sum_rate(SESS, 'encryption="starttls_failed"'),
                      sum_rate(SESS, 'encryption=~"tls|starttls_failed"')), "failed share", "A")],
        "percentunit", w=6, min_=0, thr=thresholds((GREEN, None), (ORANGE, 0.05), (RED, 0.1)),
        thr_style="line"))
    p.append(table(
        "STARTTLS failures by reason",
        "Failed inbound TLS attempts in the selected period by reason, most frequent first.",
        [target("sort_desc(sum by (reason) (%s))" % inc_range(FAIL_IN), ref="A", instant=True)],
        w=6, sort="failures",
        transformations=merge_organize({"reason": "reason", "Value": "failures"}),
        overrides=[column_override("failures", decimals=0)]))

    p.append(row("Inbound: protocols, key exchange, trust and ciphers"))
    p.append(stat(
        "Legacy protocol share (inbound)",
        "Share of inbound TLS handshakes in the selected period that used SSLv3, TLS 1.0 or TLS 1.1. "
        "Green below 1%, red from 5% (the PostfixTLSLegacyProtocolShareRising alert threshold).",
        share(sum_inc(HS_IN, LEGACY), sum_inc(HS_IN)), unit="percentunit", decimals=1,
        thr=thresholds((GREEN, None), (ORANGE, 0.01), (RED, 0.05)), color_mode="background", w=6))
    p.append(stat(
        "Inbound TLS handshakes",
        "Completed inbound TLS handshakes in the selected period (the denominator of the protocol mix).",
        sum_inc(HS_IN), decimals=0, w=6))

    p.append(stat(
        "TLS 1.3 share (inbound)",
        "Share of inbound TLS handshakes in the selected period that used TLS 1.3.",
        share(sum_inc(HS_IN, 'protocol="TLSv1.3"'), sum_inc(HS_IN)), unit="percentunit", decimals=1,
        thr=NEUTRAL, w=6))
    p.append(stat(
        "Legacy inbound handshakes",
        "Inbound TLS handshakes in the selected period on SSLv3, TLS 1.0 or TLS 1.1.",
        "sum(%s) or vector(0)" % inc_range(HS_IN, LEGACY), decimals=0,
        thr=thresholds((GREEN, None), (ORANGE, 1)), w=6))
    pmix = "sum by (protocol) (%s) / ignoring (protocol) group_left sum(%s)" % (rate(HS_IN), rate(HS_IN))
    p.append(timeseries(
        "Inbound protocol mix",
        "Share of inbound TLS handshakes per protocol version as Postfix logs it (TLSv1.3, TLSv1.2, TLSv1.1, "
        "TLSv1 = TLS 1.0, SSLv3), stacked to 100%. Red and orange areas are clients that would break if "
        "smtpd_tls_protocols excluded TLS 1.0/1.1.",
        [target(pmix, "{{protocol}}", "A")], "percentunit", stack="normal", min_=0, max_=1,
        overrides=color_overrides(PROTOCOL_COLORS)))
    p.append(timeseries(
        "Inbound key exchange mix",
        "Share of inbound TLS handshakes per key exchange group (x25519, x448, secp256r1, secp384r1, "
        "the post-quantum hybrid x25519mlkem768, ffdhe/dhe groups; unknown = TLS 1.2 and older, whose log "
        "line does not name the group), stacked to 100%.",
        [target("sum by (key_exchange) (%s) / ignoring (key_exchange) group_left sum(%s)"
                % (rate(HS_IN), rate(HS_IN)), "{{key_exchange}}", "A")],
        "percentunit", stack="normal", min_=0, max_=1,
        overrides=color_overrides({"x25519mlkem768": "purple", "x25519": "green", "unknown": "text"})))
    p.append(timeseries(
        "Inbound client certificate trust",
        "Inbound TLS handshakes per second by client certificate trust: anonymous (no client certificate, "
        "the normal case on port 25), untrusted (certificate not verified), trusted (verified against "
        "smtpd_tls_CAfile).",
        [target(sum_rate(HS_IN, by="trust"), "{{trust}}", "A")], "cps", stack="normal",
        overrides=color_overrides(TRUST_COLORS)))
    top_ciphers = "topk(15, sum by (protocol, cipher) (%s))" % inc_range(HS_IN)
    p.append(table(
        "Top inbound ciphers",
        "The 15 most used inbound protocol and cipher combinations in the selected period, with their "
        "share of all inbound handshakes.",
        [target(top_ciphers, ref="A", instant=True),
         target("%s / scalar(sum(%s))" % (top_ciphers, inc_range(HS_IN)), ref="B", instant=True)],
        sort="handshakes",
        transformations=merge_organize({"Value #A": "handshakes", "Value #B": "share"},
                                       order=["protocol", "cipher", "Value #A", "Value #B"]),
        overrides=[column_override("handshakes", decimals=0),
                   column_override("share", unit="percentunit", decimals=1),
                   column_override("protocol", extra=[{"id": "custom.width", "value": 90}])]))
    p.append(row("Outbound: deliveries by TLS level"))
    p.append(stat(
        "Outbound deliveries over TLS",
        "Share of outbound delivery attempts (one per recipient) in the selected period whose connection "
        "used TLS at any trust level (tls != \"none\").",
        share(sum_inc(DELIV, 'tls!="none"'), sum_inc(DELIV)), unit="percentunit", decimals=1,
        thr=good_share, color_mode="background", w=6))
    p.append(stat(
        "Outbound deliveries over authenticated TLS",
        "Share of outbound delivery attempts in the selected period over TLS with a trusted or verified "
        "server certificate (tls=~\"trusted|verified\").",
        share(sum_inc(DELIV, 'tls=~"trusted|verified"'), sum_inc(DELIV)), unit="percentunit",
        decimals=1, thr=NEUTRAL, w=6))
    p.append(stat(
        "Outbound delivery attempts",
        "Outbound delivery attempts (one per recipient and attempt, sent, deferred or bounced) in the "
        "selected period.", sum_inc(DELIV), decimals=0, w=6))
    p.append(stat(
        "Deferred outbound attempts",
        "Outbound delivery attempts in the selected period that ended deferred, at any TLS level.",
        "%s or vector(0)" % sum_inc(DELIV, 'status="deferred"'), decimals=0,
        thr=thresholds((GREEN, None), (ORANGE, 1)), w=6))
    p.append(table(
        "Outbound deliveries by TLS level and status",
        "Outbound delivery attempts in the selected period: one row per TLS level of the connection "
        "(none, anonymous, untrusted, trusted, verified), one column per status.",
        [target("sum by (tls, status) (%s)" % inc_range(DELIV), ref="A", instant=True)],
        w=12, h=8,
        transformations=[{"id": "groupingToMatrix", "options": {
            "columnField": "status", "rowField": "tls", "valueField": "Value", "emptyValue": "zero"}},
            {"id": "organize", "options": {"renameByName": {"tls\\status": "tls"}}}],
        overrides=[], thr=NEUTRAL))
    p.append(timeseries(
        "Outbound deliveries by TLS level",
        "Outbound delivery attempts per second, stacked by the TLS trust level of the connection. "
        "\"none\" is plaintext; \"verified\" matched the policy's name checks (secure/dane).",
        [target(sum_rate(DELIV, by="tls"), "{{tls}}", "A")], "cps", stack="normal",
        overrides=color_overrides(TRUST_COLORS)))
    p.append(timeseries(
        "Outbound deliveries by status",
        "Outbound delivery attempts per second by status (sent, deferred, bounced), over all TLS levels.",
        [target(sum_rate(DELIV, by="status"), "{{status}}", "A")], "cps", stack="normal",
        overrides=color_overrides(STATUS_COLORS)))
    p.append(timeseries(
        "Outbound TLS failures by reason",
        "Failed outbound TLS attempts per second: not_offered (TLS required, the server did not offer "
        "STARTTLS), handshake_failed, cert_untrusted, cert_expired, hostname_mismatch, other. With an "
        "enforcing policy each of these defers the mail.",
        [target(sum_rate(FAIL_OUT, by="reason"), "{{reason}}", "A")], "cps", stack="normal", bars=True))
    p.append(timeseries(
        "Outbound protocol mix",
        "Share of outbound TLS handshakes per protocol version, stacked to 100%.",
        [target("sum by (protocol) (%s) / ignoring (protocol) group_left sum(%s)"
                % (rate(HS_OUT), rate(HS_OUT)), "{{protocol}}", "A")],
        "percentunit", stack="normal", min_=0, max_=1, overrides=color_overrides(PROTOCOL_COLORS)))
    p.append(timeseries(
        "Outbound server certificate trust",
        "Outbound TLS handshakes per second by server certificate trust: anonymous (aNULL cipher, no "
        "certificate), untrusted (not verified), trusted (chain verified), verified (chain and name matched "
        "the policy, e.g. secure or dane).",
        [target(sum_rate(HS_OUT, by="trust"), "{{trust}}", "A")], "cps", stack="normal",
        overrides=color_overrides(TRUST_COLORS)))
    return dashboard("postfix-tls-overview", "Postfix TLS / Overview",
                     "Inbound and outbound TLS adoption of Postfix, from postfix_tls_exporter.", p,
                     tags_extra=["overview"])


# --------------------------------------------------------------------------
# Peers / enforcement readiness

def peers():
    p = []
    pin_plain = inc_range(PEER_IN, 'encryption="plaintext",mail="true"', HSEL)
    pin_mail = inc_range(PEER_IN, 'mail="true"', HSEL)
    pin_tls = inc_range(PEER_IN, 'encryption="tls",mail="true"', HSEL)
    plain_by = "sum by (peer_domain) (%s)" % pin_plain
    mail_by = "sum by (peer_domain) (%s)" % pin_mail
    top = "topk(20, %s)" % plain_by
    share_by = "%s / %s" % (plain_by, mail_by)
    p.append(row("Inbound: would enforcing TLS break senders? (selected period)"))
    p.append(stat(
        "Peers that sent mail in plaintext",
        "Number of labelled client domains (registrable domain of the client's hostname; \"unknown\" when "
        "the client has no verified hostname) that delivered at least one message without TLS in the "
        "selected period. The folded peer_domain=\"other\" is not counted.",
        "count(%s > 0) or vector(0)" % plain_by.replace('mail="true"', 'mail="true",peer_domain!="other"'),
        decimals=0, thr=thresholds((GREEN, None), (ORANGE, 1)), w=4))
    p.append(stat(
        "Peers that sent mail only in plaintext",
        "Client domains that delivered mail in the selected period but never over TLS: enforcing TLS "
        "would lose all of their mail unless they adapt.",
        "count((%s > 0) unless on (peer_domain) (sum by (peer_domain) (%s) > 0)) or vector(0)"
        % (plain_by.replace('mail="true"', 'mail="true",peer_domain!="other"'), pin_tls),
        decimals=0, thr=thresholds((GREEN, None), (RED, 1)), w=4))
    p.append(stat(
        "Plaintext share of mail sessions (all peers)",
        "Share of inbound sessions with mail that used no TLS, from the per-peer counters (all peers "
        "including \"other\"); equals the overview's headline for the same instances.",
        share("sum(%s)" % pin_plain, "sum(%s)" % pin_mail), unit="percentunit", decimals=1,
        thr=thresholds((GREEN, None), (ORANGE, 0.05), (RED, 0.2)), color_mode="background", w=4))
    p.append(stat(
        "Plaintext mail sessions",
        "Inbound sessions that delivered mail without TLS in the selected period, over all peers.",
        "sum(%s) or vector(0)" % pin_plain, decimals=0, w=4))
    p.append(stat(
        "Labelled inbound peers",
        "Client domains currently tracked by the exporters (postfix_tls_exporter_peers_tracked, "
        "direction=\"inbound\"), summed over instances. Beyond --peers.max the rest is folded into \"other\".",
        "sum(postfix_tls_exporter_peers_tracked{%s,direction=\"inbound\"})" % TSEL, decimals=0, w=4))
    p.append(stat(
        "Sessions folded into \"other\"",
        "Inbound peer sessions in the selected period counted under peer_domain=\"other\" because the "
        "client was not among the labelled top peers. Large values mean the tables below are incomplete.",
        "sum(%s)" % inc_range("postfix_tls_exporter_peers_folded_total", 'direction="inbound"', TSEL),
        decimals=0, w=4))
    prev = share_by.replace("[$__range])", "[$__range] offset $__range)")
    p.append(table(
        "Top plaintext peers (inbound mail)",
        "The 20 client domains with the most sessions that delivered mail without TLS in the selected "
        "period: plaintext mail sessions, all mail sessions, plaintext share, and the change of that "
        "share against the previous period of the same length (positive = more plaintext than before; "
        "empty when the peer was not seen then). These are the senders to contact before enforcing TLS.",
        [target(top, ref="A", instant=True),
         target("%s and on (peer_domain) %s" % (mail_by, top), ref="B", instant=True),
         target("%s and on (peer_domain) %s" % (share_by, top), ref="C", instant=True),
         target("(%s - %s) and on (peer_domain) %s" % (share_by, prev, top), ref="D", instant=True)],
        w=14, h=9, sort="plaintext mail sessions",
        transformations=merge_organize({"Value #A": "plaintext mail sessions", "Value #B": "mail sessions",
                                        "Value #C": "plaintext share", "Value #D": "share change"},
                                       order=["peer_domain", "Value #A", "Value #B", "Value #C", "Value #D"]),
        overrides=[column_override("plaintext mail sessions", decimals=0),
                   column_override("mail sessions", decimals=0),
                   column_override("plaintext share", unit="percentunit", decimals=1, extra=[
                       {"id": "custom.cellOptions", "value": {"type": "color-background", "mode": "basic"}},
                       {"id": "thresholds", "value": thresholds((GREEN, None), (ORANGE, 0.05), (RED, 0.5))}]),
                   column_override("share change", unit="percentunit", decimals=1)]))
    p.append(timeseries(
        "Plaintext mail sessions by peer (top 10 of the period)",
        "Inbound sessions per second that delivered mail without TLS, for the 10 client domains with the "
        "most such sessions over the whole selected period (the set does not change along the graph).",
        [target("sum by (peer_domain) (%s) and on (peer_domain) topk(10, %s)"
                % (rate(PEER_IN, 'encryption="plaintext",mail="true"', HSEL),
                   plain_by.replace("[$__range])", "[$__range] @ end())")), "{{peer_domain}}", "A")],
        "cps", w=10, h=9))

    p.append(row("Legacy protocols: TLS 1.0 and 1.1"))
    p.append(stat(
        "Legacy inbound handshakes",
        "Inbound TLS handshakes in the selected period on SSLv3, TLS 1.0 or TLS 1.1: the sessions that "
        "would fail if smtpd_tls_protocols required TLS 1.2.",
        "sum(%s) or vector(0)" % inc_range(HS_IN, LEGACY), decimals=0,
        thr=thresholds((GREEN, None), (ORANGE, 1)), h=6))
    p.append(stat(
        "Legacy outbound handshakes",
        "Outbound TLS handshakes in the selected period on SSLv3, TLS 1.0 or TLS 1.1: destinations that "
        "would fail if smtp_tls_protocols required TLS 1.2.",
        "sum(%s) or vector(0)" % inc_range(HS_OUT, LEGACY), decimals=0,
        thr=thresholds((GREEN, None), (ORANGE, 1)), h=6))
    p.append(table(
        "Legacy handshakes by instance, service and protocol",
        "Inbound handshakes on SSLv3/TLS 1.0/TLS 1.1 in the selected period by instance, syslog name, "
        "protocol and cipher. The metrics carry no client name; the instance column links to that "
        "exporter's /report page, which lists the peers still on old protocols.",
        [target("sort_desc(sum by (instance, syslog_name, protocol, cipher) (%s))" % inc_range(HS_IN, LEGACY),
                ref="A", instant=True)],
        w=18, h=6, sort="handshakes",
        transformations=merge_organize({"Value": "handshakes"},
                                       order=["instance", "syslog_name", "protocol", "cipher", "Value"]),
        overrides=[column_override("handshakes", decimals=0),
                   column_override("instance", extra=[{"id": "links", "value": [{
                       "title": "Peer report of this exporter",
                       "url": "http://${__value.raw}/report", "targetBlank": True}]}])]))
    p.append(timeseries(
        "Legacy protocol share",
        "Share of TLS handshakes on SSLv3/TLS 1.0/TLS 1.1, inbound and outbound. Red line at 5%.",
        [target(share(sum_rate(HS_IN, LEGACY), sum_rate(HS_IN)), "inbound", "A"),
         target(share(sum_rate(HS_OUT, LEGACY), sum_rate(HS_OUT)), "outbound", "B")],
        "percentunit", w=12, h=8, min_=0, thr=thresholds((GREEN, None), (RED, 0.05)), thr_style="line"))
    p.append(timeseries(
        "Inbound handshakes by protocol and service",
        "Inbound TLS handshakes per second by protocol version and syslog name: which listener "
        "(port 25, submission, smtps) still sees old protocols.",
        [target(sum_rate(HS_IN, by="syslog_name, protocol"), "{{syslog_name}} {{protocol}}", "A")],
        "cps", w=12, h=8, stack="normal"))

    pout = inc_range(PEER_OUT, "", HSEL)
    pout_by = "sum by (peer_domain) (%s)" % pout
    p.append(row("Outbound destinations"))
    p.append(table(
        "Outbound destinations by TLS level",
        "Outbound delivery attempts in the selected period per recipient domain (registrable domain; the "
        "rest folded into \"other\") and TLS level of the connection: none, anonymous, untrusted, "
        "trusted, verified.",
        [target("sum by (peer_domain, tls) (%s)" % pout, ref="A", instant=True)],
        w=12, h=8,
        transformations=[{"id": "groupingToMatrix", "options": {
            "columnField": "tls", "rowField": "peer_domain", "valueField": "Value", "emptyValue": "zero"}},
            {"id": "organize", "options": {"renameByName": {"peer_domain\\tls": "peer_domain"}}}]))
    top_out = "topk(20, %s)" % pout_by
    p.append(table(
        "Outbound destinations: plaintext and deferred share",
        "For the 20 recipient domains with the most delivery attempts in the selected period: attempts, "
        "share without TLS (tls=\"none\"), share with an authenticated certificate (trusted or verified) "
        "and share deferred. Domains with a high plaintext share cannot be given an \"encrypt\" policy yet.",
        [target(top_out, ref="A", instant=True),
         target("%s and on (peer_domain) %s" % (share_on(
             "sum by (peer_domain) (%s)" % inc_range(PEER_OUT, 'tls="none"', HSEL), pout_by, "peer_domain"),
             top_out), ref="B", instant=True),
         target("%s and on (peer_domain) %s" % (share_on(
             "sum by (peer_domain) (%s)" % inc_range(PEER_OUT, 'tls=~"trusted|verified"', HSEL), pout_by,
             "peer_domain"), top_out), ref="C", instant=True),
         target("%s and on (peer_domain) %s" % (share_on(
             "sum by (peer_domain) (%s)" % inc_range(PEER_OUT, 'status="deferred"', HSEL), pout_by,
             "peer_domain"), top_out), ref="D", instant=True)],
        w=12, h=8, sort="attempts",
        transformations=merge_organize({"Value #A": "attempts", "Value #B": "without TLS",
                                        "Value #C": "authenticated", "Value #D": "deferred"},
                                       order=["peer_domain", "Value #A", "Value #B", "Value #C", "Value #D"]),
        overrides=[column_override("attempts", decimals=0),
                   column_override("without TLS", unit="percentunit", decimals=1),
                   column_override("authenticated", unit="percentunit", decimals=1),
                   column_override("deferred", unit="percentunit", decimals=1)]))
    p.append(timeseries(
        "Outbound deliveries without TLS by destination (top 10 of the period)",
        "Outbound delivery attempts per second without TLS, for the 10 recipient domains with the most "
        "such attempts over the selected period.",
        [target("sum by (peer_domain) (%s) and on (peer_domain) topk(10, sum by (peer_domain) (%s))"
                % (rate(PEER_OUT, 'tls="none"', HSEL),
                   inc_range(PEER_OUT, 'tls="none"', HSEL).replace("[$__range])", "[$__range] @ end())")),
                "{{peer_domain}}", "A")], "cps", w=12, h=8))
    p.append(timeseries(
        "Outbound deliveries by destination and status (top 10 of the period)",
        "Outbound delivery attempts per second by recipient domain and status, for the 10 domains with the "
        "most attempts over the selected period.",
        [target("sum by (peer_domain, status) (%s) and on (peer_domain) topk(10, %s)"
                % (rate(PEER_OUT, "", HSEL), pout_by.replace("[$__range])", "[$__range] @ end())")),
                "{{peer_domain}} {{status}}", "A")], "cps", w=12, h=8, stack="normal"))
    return dashboard("postfix-tls-peers", "Postfix TLS / Peers and enforcement readiness",
                     "Which peers still send or receive mail without TLS or on old protocols: the dashboard "
                     "twin of the exporter's /report page.", p, tags_extra=["peers"])


# --------------------------------------------------------------------------
# Exporter health

def health():
    p = []
    up = 'up{%s}' % TSEL
    p.append(row("Status"))
    p.append(stat("Exporters up",
                  "Number of selected exporter targets whose last scrape succeeded (Prometheus' up metric).",
                  "count(%s == 1) or vector(0)" % up, decimals=0, thr=thresholds((RED, None), (GREEN, 1))))
    p.append(stat("Exporters down",
                  "Number of selected exporter targets whose last scrape failed. Alert: PostfixTLSExporterDown.",
                  "count(%s == 0) or vector(0)" % up, decimals=0,
                  thr=thresholds((GREEN, None), (RED, 1)), color_mode="background"))
    p.append(stat("Log sources down",
                  "Log sources (files or the journal) that the exporters are not following "
                  "(postfix_tls_exporter_source_up == 0). Alert: PostfixTLSLogSourceDown.",
                  "count(postfix_tls_exporter_source_up{%s} == 0) or vector(0)" % TSEL, decimals=0,
                  thr=thresholds((GREEN, None), (RED, 1)), color_mode="background"))
    p.append(stat("Oldest newest-event age",
                  "The largest lag over the selected instances: now minus the log timestamp of the newest "
                  "Postfix record processed. Orange from 15 minutes, red from 1 hour (alert "
                  "PostfixTLSNoRecentEvents; an idle Postfix also lags).",
                  "max(time() - postfix_tls_exporter_last_event_timestamp_seconds{%s})" % TSEL, unit="s",
                  thr=thresholds((GREEN, None), (ORANGE, 900), (RED, 3600)), color_mode="background"))
    p.append(stat("Lines read",
                  "Log lines and journal entries read in the selected period, over the selected instances.",
                  "sum(%s)" % inc_range("postfix_tls_exporter_lines_read_total", "", TSEL), decimals=0))
    p.append(stat("Unrecognized lines",
                  "TLS- or session-relevant Postfix lines in the selected period that matched no parser "
                  "rule, i.e. events not counted. Non-zero after a Postfix upgrade suggests a new log "
                  "format (alert PostfixTLSUnrecognizedLines).",
                  "sum(%s) or vector(0)" % inc_range("postfix_tls_exporter_unrecognized_lines_total", "", TSEL),
                  decimals=0, thr=thresholds((GREEN, None), (ORANGE, 1))))
    p.append(stat("Sessions open",
                  "Inbound sessions currently in flight (connect seen, disconnect not yet), summed.",
                  "sum(postfix_tls_exporter_sessions_open{%s})" % TSEL, decimals=0))
    p.append(stat("Series dropped",
                  "Increments not recorded in the selected period because --store.max-series was "
                  "reached. Should be 0 (alert PostfixTLSSeriesLimitReached).",
                  "sum(%s)" % inc_range("postfix_tls_exporter_series_dropped_total", "", TSEL), decimals=0,
                  thr=thresholds((GREEN, None), (RED, 1)), color_mode="background"))
    inst_targets = [
        target('max by (instance, version) (postfix_tls_exporter_build_info{%s})' % TSEL, ref="A", instant=True),
        target('max by (instance) (time() - process_start_time_seconds{%s})' % TSEL, ref="B", instant=True),
        target('max by (instance) (time() - postfix_tls_exporter_last_event_timestamp_seconds{%s})' % TSEL,
               ref="C", instant=True),
        target('sum by (instance) (%s)' % rate("postfix_tls_exporter_lines_read_total", "", TSEL),
               ref="D", instant=True),
        target('min by (instance) (postfix_tls_exporter_source_up{%s})' % TSEL, ref="E", instant=True),
    ]
    p.append(table("Exporter instances",
                   "One row per exporter: version, uptime, lag of the newest processed record, lines read per "
                   "second (over the last $__rate_interval) and whether all its log sources are followed "
                   "(1 = yes).",
                   inst_targets, w=24, h=6, sort="instance",
                   transformations=merge_organize(
                       {"Value #B": "uptime", "Value #C": "lag", "Value #D": "lines/s",
                        "Value #E": "sources up"}, exclude=("Time", "Value #A"),
                       order=["instance", "version", "Value #B", "Value #C", "Value #D", "Value #E"]),
                   overrides=[column_override("uptime", unit="dtdurations"),
                              column_override("lag", unit="dtdurations"),
                              column_override("lines/s", unit="cps"),
                              column_override("sources up", unit="none", decimals=0)]))

    p.append(row("Input"))
    p.append(timeseries(
        "Lines read per second",
        "Log lines and journal entries read per second by each exporter (all lines, Postfix or not), and "
        "journal entries before the Postfix filter. A flat zero with a busy Postfix means the source is stuck.",
        [target("sum by (instance) (%s)" % rate("postfix_tls_exporter_lines_read_total", "", TSEL),
                "{{instance}} lines", "A"),
         target("sum by (instance) (%s)" % rate("postfix_tls_exporter_journal_entries_read_total", "", TSEL),
                "{{instance}} journal entries", "B")], "cps"))
    p.append(timeseries(
        "Newest event age (lag)",
        "Per instance: now minus the log timestamp of the newest Postfix record processed. Grows steadily "
        "when the source stalls or Postfix is idle; red line at 1 hour.",
        [target("max by (instance) (time() - postfix_tls_exporter_last_event_timestamp_seconds{%s})" % TSEL,
                "{{instance}}", "A")], "s", thr=thresholds((GREEN, None), (RED, 3600)), thr_style="line"))
    p.append(timeseries(
        "Unrecognized lines by daemon",
        "Per instance and Postfix daemon (smtpd, smtp, postscreen, tlsproxy): relevant lines per second "
        "that no parser rule matched. Zero is drawn when an instance has none.",
        [target("sum by (instance, daemon) (%s) or on (instance) sum by (instance) (%s) * 0"
                % (rate("postfix_tls_exporter_unrecognized_lines_total", "", TSEL),
                   rate("postfix_tls_exporter_lines_read_total", "", TSEL)), "{{instance}} {{daemon}}", "A")],
        "cps", w=8))
    p.append(timeseries(
        "Malformed and oversized lines",
        "Per instance: lines per second without a recognisable syslog header (wrong log format?) and lines "
        "longer than --source.max-line-length.",
        [target("sum by (instance) (%s)" % rate("postfix_tls_exporter_malformed_lines_total", "", TSEL),
                "{{instance}} malformed", "A"),
         target("sum by (instance) (%s)" % rate("postfix_tls_exporter_oversized_lines_total", "", TSEL),
                "{{instance}} oversized", "B")], "cps", w=8))
    p.append(timeseries(
        "Postfix events by syslog name",
        "Inbound connections and outbound delivery attempts per second by syslog name, over the selected "
        "instances: which Postfix services the exporters see activity from.",
        [target(sum_rate(CONN, by="syslog_name"), "{{syslog_name}} connections", "A"),
         target(sum_rate(DELIV, by="syslog_name"), "{{syslog_name}} deliveries", "B")], "cps", w=8))
    p.append(state_timeline(
        "Log sources",
        "Per instance and source: up (open and followed) or down.",
        [target("max by (instance, source) (postfix_tls_exporter_source_up{%s})" % TSEL,
                "{{instance}} {{source}}", "A")], w=24, h=5))

    p.append(row("Sessions and peers"))
    p.append(timeseries(
        "Sessions open",
        "Per instance: inbound sessions in flight. Should follow the connection rate; steady growth means "
        "disconnect lines are lost.",
        [target("sum by (instance) (postfix_tls_exporter_sessions_open{%s})" % TSEL, "{{instance}}", "A")],
        "short", w=8))
    p.append(timeseries(
        "Sessions expired and series dropped",
        "Per instance: sessions dropped without a disconnect line (lost lines, PID reuse, age or table limit) "
        "and increments lost at the series limit, per second.",
        [target("sum by (instance) (%s)" % rate("postfix_tls_exporter_sessions_expired_total", "", TSEL),
                "{{instance}} sessions expired", "A"),
         target("sum by (instance) (%s)" % rate("postfix_tls_exporter_series_dropped_total", "", TSEL),
                "{{instance}} series dropped", "B")], "cps", w=8))
    p.append(timeseries(
        "Peers tracked and folded",
        "Per instance and direction: peer domains tracked for the readiness report, and peer events per "
        "second folded into peer_domain=\"other\" (right axis would mix units, so folded events are "
        "drawn as a rate on the same axis).",
        [target("sum by (instance, direction) (postfix_tls_exporter_peers_tracked{%s})" % TSEL,
                "{{instance}} {{direction}} tracked", "A"),
         target("sum by (instance, direction) (%s)" % rate("postfix_tls_exporter_peers_folded_total", "", TSEL),
                "{{instance}} {{direction}} folded/s", "B")], "short", w=8))

    p.append(row("Process"))
    p.append(timeseries(
        "CPU",
        "Per instance: CPU time used per second (1 = one core).",
        [target("sum by (instance) (%s)" % rate("process_cpu_seconds_total", "", TSEL), "{{instance}}", "A")],
        "percentunit", w=8))
    p.append(timeseries(
        "Memory",
        "Per instance: resident and virtual memory size.",
        [target("sum by (instance) (process_resident_memory_bytes{%s})" % TSEL, "{{instance}} resident", "A"),
         target("sum by (instance) (process_virtual_memory_bytes{%s})" % TSEL, "{{instance}} virtual", "B")],
        "bytes", w=8))
    p.append(timeseries(
        "File descriptors",
        "Per instance: open file descriptors as a share of the limit (process_open_fds / process_max_fds). "
        "Red line at 80%.",
        [target("sum by (instance) (process_open_fds{%s}) / sum by (instance) (process_max_fds{%s})"
                % (TSEL, TSEL), "{{instance}}", "A")],
        "percentunit", w=8, min_=0, thr=thresholds((GREEN, None), (RED, 0.8)), thr_style="line"))
    return dashboard("postfix-tls-exporter", "Postfix TLS / Exporter health",
                     "Health of postfix_tls_exporter: scrape and log source status, input rates, lag, "
                     "parser coverage, session table and process resources.", p, tags_extra=["exporter"])


DASHBOARDS = {
    "postfix-tls-overview.json": overview,
    "postfix-tls-peers.json": peers,
    "postfix-tls-exporter.json": health,
}


def render(fn):
    return json.dumps(fn(), indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    out = OUT
    for a in argv:
        if a.startswith("--out="):
            out = a.split("=", 1)[1]
    bad = 0
    for name, fn in DASHBOARDS.items():
        text = render(fn)
        path = os.path.join(out, name)
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        print("%s is out of date: run dashboards/tools/gen_dashboards.py" % path)
                        bad += 1
            except FileNotFoundError:
                print("%s is missing" % path)
                bad += 1
        else:
            os.makedirs(out, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
