#!/usr/bin/env bash
# Renders the kustomize base offline with the machine's kubectl, lints the rendered YAML, the
# vigied config inside its ConfigMap and the YAML sources with yamllint, and runs the
# structural check. Writes the rendered manifests and the config to OUT_DIR for later tests.
# Usage: k8s_render_lint.sh PYTHON SOURCE_DIR OUT_DIR
set -euo pipefail
python=$1
source_dir=$2
out_dir=$3
here=$(dirname "$0")
lint=(yamllint --strict -c "$here/yamllint.yaml")

mkdir -p "$out_dir"
kubectl kustomize "$source_dir/packaging/kubernetes" >"$out_dir/rendered.yaml"
echo "rendered $(grep -c '^kind:' "$out_dir/rendered.yaml") objects"
"${lint[@]}" "$out_dir/rendered.yaml"
"$python" "$here/check_kubernetes.py" "$out_dir/rendered.yaml" "$out_dir/vigie.yaml"
"${lint[@]}" "$out_dir/vigie.yaml"
"${lint[@]}" "$source_dir/packaging/kubernetes" "$source_dir/packaging/vigie.yaml" \
    "$source_dir/packaging/helm/vigie/values.yaml" "$source_dir/packaging/helm/vigie/Chart.yaml"
echo "yamllint: clean"
