#!/usr/bin/env bash
# Regenerates imports/monitoring.coreos.com.ts from the prometheus-operator CRDs.
# Usage: scripts/import-crds.sh [CRD_DIR]
#   CRD_DIR holds monitoring.coreos.com_servicemonitors.yaml, _prometheusrules.yaml and _probes.yaml
#   (default: ../shared/crds). Without it, the files are downloaded from the upstream tag.
set -euo pipefail
VERSION=v0.93.0
BASE="https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/${VERSION}/example/prometheus-operator-crd"
KINDS=(servicemonitors prometheusrules probes)
cd "$(dirname "$0")/.."
src="${1:-../shared/crds}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for kind in "${KINDS[@]}"; do
  file="monitoring.coreos.com_${kind}.yaml"
  if [[ -f "$src/$file" ]]; then
    cat "$src/$file"
  else
    curl -fsSL "$BASE/$file"
  fi
  printf '\n---\n'
done > "$tmp/monitoring.coreos.com.yaml"
# One multi-document file: both kinds land in one module instead of overwriting each other.
CDK8S_CHECK_UPGRADE=false npx cdk8s import --no-save --language typescript --output imports "$tmp/monitoring.coreos.com.yaml"
