#!/usr/bin/env bash
# Shows that check_helm_chart.py fails on a template that names a value values.yaml lacks.
# Usage: helm_selftest.sh PYTHON CHART_DIR KUSTOMIZE_DIR
set -euo pipefail
python=$1
chart_dir=$2
kustomize_dir=$3
here=$(dirname "$0")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$chart_dir" "$work/vigie"
printf '  # {{ .Values.image.digest }}\n' >>"$work/vigie/templates/service.yaml"
set +e
output=$("$python" "$here/check_helm_chart.py" "$work/vigie" "$kustomize_dir" 2>&1)
rc=$?
set -e
echo "$output"
[[ $rc -eq 1 ]] &&
    grep -q 'templates/service.yaml:.*\.Values\.image\.digest is not in values.yaml' <<<"$output"
