#!/usr/bin/env python3
"""Checks the Helm chart without Helm (not installable here).

- Every .Values.a.b that a template names exists in values.yaml, and every top-level value is
  used by some template.
- The chart makes the same kinds of objects as the kustomize base (minus the Namespace, which a
  Helm release does not own), with the same defaults: ports, tolerations, and the vigied config.
Usage: check_helm_chart.py CHART_DIR KUSTOMIZE_DIR
"""
import os
import re
import sys

import yaml

VALUES_REF = re.compile(r"\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
KIND = re.compile(r"^kind:\s*(\w+)\s*$", re.MULTILINE)


def templates(chart_dir):
    folder = os.path.join(chart_dir, "templates")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as stream:
            yield name, stream.read()


def lookup(values, path):
    node = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def main():
    chart_dir, kustomize_dir = sys.argv[1], sys.argv[2]
    problems = []
    with open(os.path.join(chart_dir, "values.yaml"), encoding="utf-8") as stream:
        values = yaml.safe_load(stream)
    with open(os.path.join(chart_dir, "Chart.yaml"), encoding="utf-8") as stream:
        chart = yaml.safe_load(stream)
    for key in ("apiVersion", "name", "version", "appVersion"):
        if key not in chart:
            problems.append(f"Chart.yaml has no {key}")

    used_top = set()
    chart_kinds = set()
    refs = 0
    for name, text in templates(chart_dir):
        chart_kinds.update(KIND.findall(text))
        for match in VALUES_REF.finditer(text):
            path = match.group(1).lstrip(".").split(".")
            refs += 1
            used_top.add(path[0])
            if not lookup(values, path):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"templates/{name}:{line}: .Values.{'.'.join(path)} "
                                "is not in values.yaml")
    for key in sorted(set(values) - used_top):
        problems.append(f"values.yaml: {key} is not used by any template")

    base_kinds = set()
    base_docs = []
    for name in sorted(os.listdir(kustomize_dir)):
        if name.endswith(".yaml") and name not in ("kustomization.yaml", "vigie.yaml"):
            with open(os.path.join(kustomize_dir, name), encoding="utf-8") as stream:
                base_docs += [d for d in yaml.safe_load_all(stream) if d]
    base_kinds = {d["kind"] for d in base_docs} | {"ConfigMap"}  # the generator makes it
    if chart_kinds != base_kinds - {"Namespace"}:
        problems.append(f"chart kinds {sorted(chart_kinds)} != base kinds without Namespace "
                        f"{sorted(base_kinds - {'Namespace'})}")

    # The same defaults as the base.
    service = next(d for d in base_docs if d["kind"] == "Service")
    base_ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    if base_ports != values.get("ports"):
        problems.append(f"values ports {values.get('ports')} != the base's {base_ports}")
    daemonset = next(d for d in base_docs if d["kind"] == "DaemonSet")
    if daemonset["spec"]["template"]["spec"]["tolerations"] != values.get("tolerations"):
        problems.append("values tolerations differ from the base's")
    with open(os.path.join(kustomize_dir, "vigie.yaml"), encoding="utf-8") as stream:
        base_config = yaml.safe_load(stream)
    base_metrics = base_config.pop("metrics", {})
    base_config.pop("api", None)
    if base_config != values.get("config"):
        problems.append(f"values config {values.get('config')} != the base's {base_config}")
    if str(base_metrics.get("healthz_max_lag")) != str(values["metrics"]["healthzMaxLag"]):
        problems.append("metrics.healthzMaxLag differs from the base's healthz_max_lag")

    for problem in problems:
        print(f"check_helm_chart: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_helm_chart: ok ({refs} .Values references, kinds {sorted(chart_kinds)})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
