#!/usr/bin/env python3
"""Structural check of the rendered DaemonSet manifests (kubectl kustomize packaging/kubernetes).

It checks what the YAML schema cannot: that the objects agree with each other and with the vigied
config they carry (ports, probes, mounts, paths), and that the DaemonSet has what supervision and
crash capture need on a node. Usage: check_kubernetes.py RENDERED.yaml [EXTRACTED_CONFIG_OUT]
"""
import re
import sys

import yaml

GRPC_PORT = 7443
STATE_DIR = "/var/lib/vigie"
RUN_DIR = "/run/vigie"
HELPER_DIR = "/usr/libexec/vigie"
EXPECTED_KINDS = {"Namespace", "ServiceAccount", "ConfigMap", "Service", "DaemonSet"}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def port_of(listen):
    match = re.fullmatch(r"(.*):(\d+)", listen)
    return (match.group(1).strip("[]"), int(match.group(2))) if match else (None, None)


def seconds(duration):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(duration))
    if not match:
        return 0.0
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return float(match.group(1)) * factor


def args_map(args):
    result = {}
    for arg in args:
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            result[key] = value
    return result


def named_port(container, name):
    for port in container.get("ports", []):
        if port.get("name") == name:
            return port.get("containerPort")
    return None


def check_probe(container, kind, ports):
    probe = container.get(kind)
    if not check(probe is not None, f"vigied has no {kind}"):
        return
    http = probe.get("httpGet", {})
    check(http.get("path") == "/healthz", f"{kind} must GET /healthz, not {http.get('path')}")
    port = http.get("port")
    number = ports.get(port) if isinstance(port, str) else port
    check(number == ports.get("metrics"), f"{kind} port {port} is not the metrics port")


def mounts_of(container):
    return {m["name"]: m for m in container.get("volumeMounts", [])}


def find_problems(docs):
    """Every problem found in the rendered objects, and the vigied config they carry."""
    failures.clear()
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    check(set(by_kind) == EXPECTED_KINDS, f"kinds {sorted(by_kind)} != {sorted(EXPECTED_KINDS)}")
    for kind, objects in by_kind.items():
        check(len(objects) == 1, f"{len(objects)} objects of kind {kind}, expected 1")
    if failures:
        return list(failures), None
    ns, sa, cm, svc, ds = (by_kind[k][0] for k in
                           ("Namespace", "ServiceAccount", "ConfigMap", "Service", "DaemonSet"))

    namespace = ns["metadata"]["name"]
    for obj in (sa, cm, svc, ds):
        check(obj["metadata"].get("namespace") == namespace,
              f"{obj['kind']} is not in namespace {namespace}")
    ns_labels = ns["metadata"].get("labels", {})
    check(ns_labels.get("pod-security.kubernetes.io/enforce") == "privileged",
          "the namespace must allow privileged pods (pod-security.kubernetes.io/enforce)")

    pod = ds["spec"]["template"]
    spec = pod["spec"]
    check(spec.get("hostPID") is True, "the DaemonSet needs hostPID: true")
    check(spec.get("serviceAccountName") == sa["metadata"]["name"],
          "pods use another ServiceAccount")
    check(sa.get("automountServiceAccountToken") is False and
          spec.get("automountServiceAccountToken") is False,
          "vigied does not call the Kubernetes API: no service account token")
    check({"operator": "Exists"} in spec.get("tolerations", []),
          "a toleration {operator: Exists} is needed to run on every node")
    pod_labels = pod["metadata"].get("labels", {})
    selector = ds["spec"]["selector"]["matchLabels"]
    check(all(pod_labels.get(k) == v for k, v in selector.items()), "selector does not match pods")

    containers = {c["name"]: c for c in spec["containers"]}
    if not check("vigied" in containers, "no container named vigied"):
        return list(failures), None
    vigied = containers["vigied"]
    check(vigied.get("securityContext", {}).get("privileged") is True, "vigied must be privileged")
    for container in spec["containers"] + spec.get("initContainers", []):
        requests = container.get("resources", {}).get("requests", {})
        check("cpu" in requests and "memory" in requests,
              f"container {container['name']} has no cpu and memory requests")

    # The config the pods read: mounted from the ConfigMap where --config points.
    args = args_map(vigied.get("args", []))
    config_path = args.get("config", "")
    config_dir, _, config_file = config_path.rpartition("/")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = mounts_of(vigied)
    config_mounts = [m for m in mounts.values() if m["mountPath"] == config_dir]
    check(len(config_mounts) == 1, f"nothing mounted at {config_dir} for --config={config_path}")
    config_text = None
    if config_mounts:
        volume = volumes.get(config_mounts[0]["name"], {})
        check(volume.get("configMap", {}).get("name") == cm["metadata"]["name"],
              f"{config_dir} is not the ConfigMap {cm['metadata']['name']}")
        config_text = cm.get("data", {}).get(config_file)
    if not check(config_text is not None, f"the ConfigMap has no key {config_file}"):
        return list(failures), None
    config = yaml.safe_load(config_text) or {}

    # Ports: the config, the container, the Service, the probes and the scrape annotation agree.
    ports = {p["name"]: p["containerPort"] for p in vigied.get("ports", [])}
    metrics_host, metrics_port = port_of(config.get("metrics", {}).get("listen", ""))
    check(metrics_port is not None, "the config must set metrics.listen (the probes need it)")
    check(metrics_host in ("0.0.0.0", "::"),
          f"metrics.listen host {metrics_host} is not reachable by the kubelet and Prometheus")
    check(named_port(vigied, "metrics") == metrics_port,
          f"container port metrics {ports.get('metrics')} != metrics.listen port {metrics_port}")
    check(named_port(vigied, "grpc") == GRPC_PORT, f"container port grpc is not {GRPC_PORT}")
    tcp = (config.get("api") or {}).get("tcp")
    if tcp:
        check(port_of(tcp.get("listen", ""))[1] == GRPC_PORT,
              f"api.tcp.listen is not on {GRPC_PORT}")
    check_probe(vigied, "livenessProbe", ports)
    check_probe(vigied, "readinessProbe", ports)
    annotations = pod["metadata"].get("annotations", {})
    check(annotations.get("prometheus.io/scrape") == "true", "no prometheus.io/scrape annotation")
    check(annotations.get("prometheus.io/port") == str(metrics_port),
          "prometheus.io/port is not the metrics port")
    check(annotations.get("prometheus.io/path") == "/metrics", "prometheus.io/path is not /metrics")

    check(svc["spec"].get("clusterIP") == "None", "the Service must be headless")
    check(svc["spec"].get("selector") == selector, "the Service does not select the agent pods")
    service_ports = {p["name"]: p for p in svc["spec"].get("ports", [])}
    for name, number in (("grpc", GRPC_PORT), ("metrics", metrics_port)):
        port = service_ports.get(name)
        if check(port is not None, f"the Service has no {name} port"):
            check(port.get("port") == number and port.get("targetPort") in (name, number),
                  f"Service port {name} does not lead to {number}")

    # Host paths: state and sockets shared with the host at the paths the flags use.
    def host_mount(path, mount_path):
        for mount in mounts.values():
            volume = volumes.get(mount["name"], {})
            if volume.get("hostPath", {}).get("path") == path and mount["mountPath"] == mount_path:
                return mount
        failures.append(f"vigied has no hostPath {path} mounted at {mount_path}")
        return None

    host_mount(STATE_DIR, STATE_DIR)
    host_mount(RUN_DIR, RUN_DIR)
    helper = host_mount(HELPER_DIR, HELPER_DIR)
    if helper:
        check(helper.get("readOnly") is True, "vigied needs the host's helper directory read-only")
    check(args.get("state-dir") == STATE_DIR, f"--state-dir is not {STATE_DIR}")
    check(args.get("socket", "").startswith(RUN_DIR + "/"), f"--socket is not under {RUN_DIR}")

    # The init container installs the crash helper at the host path that core_pattern names.
    inits = spec.get("initContainers", [])
    installers = []
    for init in inits:
        script = " ".join(init.get("command", []) + init.get("args", []))
        for mount in mounts_of(init).values():
            volume = volumes.get(mount["name"], {})
            if (volume.get("hostPath", {}).get("path") == HELPER_DIR and not mount.get("readOnly")
                    and mount["mountPath"] in script and "vigie-coredump" in script):
                installers.append(init["name"])
    check(len(installers) == 1, f"one init container must copy vigie-coredump to {HELPER_DIR}")

    # Graceful stop: the pod's grace period covers the longest stop.timeout of the workloads.
    longest = max([seconds((w.get("stop") or {}).get("timeout", "10s"))
                   for w in config.get("workloads") or []] + [10.0])
    check(spec.get("terminationGracePeriodSeconds", 30) > longest,
          f"terminationGracePeriodSeconds must exceed the longest stop.timeout ({longest}s)")
    return list(failures), config_text


def main():
    with open(sys.argv[1], encoding="utf-8") as stream:
        docs = [d for d in yaml.safe_load_all(stream) if d]
    problems, config_text = find_problems(docs)
    for problem in problems:
        print(f"check_kubernetes: {problem}", file=sys.stderr)
    if problems:
        return 1
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            out.write(config_text)
    print("check_kubernetes: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
