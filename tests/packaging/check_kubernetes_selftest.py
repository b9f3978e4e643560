#!/usr/bin/env python3
"""Shows that check_kubernetes.py catches what it claims to: each mutation of the rendered
manifests must be reported. Usage: check_kubernetes_selftest.py RENDERED.yaml"""
import copy
import os
import sys

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_kubernetes  # noqa: E402


def of_kind(docs, kind):
    return next(d for d in docs if d["kind"] == kind)


def pod_spec(docs):
    return of_kind(docs, "DaemonSet")["spec"]["template"]["spec"]


def vigied(docs):
    return next(c for c in pod_spec(docs)["containers"] if c["name"] == "vigied")


def set_config(docs, text_from, text_to):
    data = of_kind(docs, "ConfigMap")["data"]
    data["vigie.yaml"] = data["vigie.yaml"].replace(text_from, text_to)


MUTATIONS = {
    "no hostPID": lambda d: pod_spec(d).update(hostPID=False),
    "not privileged": lambda d: vigied(d)["securityContext"].update(privileged=False),
    "probe path": lambda d: vigied(d)["livenessProbe"]["httpGet"].update(path="/"),
    "readiness port": lambda d: vigied(d)["readinessProbe"]["httpGet"].update(port=8080),
    "no tolerations": lambda d: pod_spec(d).update(tolerations=[]),
    "metrics on loopback": lambda d: set_config(d, '"0.0.0.0:9464"', '"127.0.0.1:9464"'),
    "metrics port drift": lambda d: set_config(d, '"0.0.0.0:9464"', '"0.0.0.0:9465"'),
    "service not headless": lambda d: of_kind(d, "Service")["spec"].pop("clusterIP"),
    "no init container": lambda d: pod_spec(d).update(initContainers=[]),
    "no state mount": lambda d: vigied(d).update(
        volumeMounts=[m for m in vigied(d)["volumeMounts"] if m["mountPath"] != "/var/lib/vigie"]),
    "no scrape annotation": lambda d: of_kind(d, "DaemonSet")["spec"]["template"]["metadata"]
    .update(annotations={}),
    "short grace period": lambda d: pod_spec(d).update(terminationGracePeriodSeconds=5),
    "missing ServiceAccount": lambda d: d.remove(of_kind(d, "ServiceAccount")),
}


def main():
    with open(sys.argv[1], encoding="utf-8") as stream:
        docs = [d for d in yaml.safe_load_all(stream) if d]
    problems, _ = check_kubernetes.find_problems(copy.deepcopy(docs))
    if problems:
        print(f"the unmodified manifests already fail: {problems}", file=sys.stderr)
        return 1
    missed = []
    for name, mutate in MUTATIONS.items():
        mutated = copy.deepcopy(docs)
        mutate(mutated)
        problems, _ = check_kubernetes.find_problems(mutated)
        print(f"{name}: {problems if problems else 'NOT CAUGHT'}")
        if not problems:
            missed.append(name)
    if missed:
        print(f"check_kubernetes.py misses: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
