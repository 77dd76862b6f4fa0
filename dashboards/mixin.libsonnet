// Monitoring-mixin view of the files in this directory.
//
// The plain JSON dashboards and YAML rule files are the source of truth;
// this file only imports them, so it cannot drift from them (the test
// dashboards-mixin renders it and compares the result with the files).
//
//   local pte = import 'postfix_tls_exporter/dashboards/mixin.libsonnet';
//   pte.grafanaDashboards      // { 'postfix-tls-overview.json': {...}, ... }
//   pte.prometheusRules        // { groups: [...] }  recording rules
//   pte.prometheusAlerts       // { groups: [...] }  alerting rules
//
// Requires std.parseYaml (jsonnet >= 0.18).
{
  grafanaDashboards+:: {
    'postfix-tls-overview.json': (import 'grafana/postfix-tls-overview.json'),
    'postfix-tls-peers.json': (import 'grafana/postfix-tls-peers.json'),
    'postfix-tls-exporter.json': (import 'grafana/postfix-tls-exporter.json'),
  },
  prometheusRules+:: std.parseYaml(importstr 'prometheus/postfix-tls.rules.yml'),
  prometheusAlerts+:: std.parseYaml(importstr 'prometheus/postfix-tls.alerts.yml'),
}
