#!/usr/bin/env bash
# `npm run deploy:validate`: checks the image recipe, the compose file and every Kustomize overlay offline, with
# pinned tools from PyPI (deploy/requirements-tools.txt) in the project venv. Any failure exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tools/venv
BIN="$VENV/bin"
REQUIREMENTS=deploy/requirements-tools.txt
STAMP=.tools/deploy-tools.stamp
# The oldest Kubernetes we support and the newest the validator knows.
KUBERNETES_VERSIONS=(1.33.0 1.37.0)

if [[ ! -x "$BIN/pip" ]]; then
  node scripts/temporal-tools.mjs >/dev/null # creates the project venv (and the Temporal tools)
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
check "$BIN/python" scripts/validate-deploy.py compose docker-compose.yml

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
  check "$BIN/python" scripts/validate-deploy.py split "$dir/rendered.yaml" "$dir"
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
  step "overlay $name: rules (autoscaling, grace periods, secrets, selectors, build id)"
  check "$BIN/python" scripts/validate-deploy.py rules "$dir/rendered.yaml"
done

if [[ $failed -ne 0 ]]; then
  echo "deploy validation FAILED"
  exit 1
fi
echo "deploy validation passed"
