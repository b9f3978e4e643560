#!/usr/bin/env python3
"""Checks the promises of systemd/vigie.service that systemd-analyze verify cannot see: the
supervision settings the agent relies on, and that each hardening directive is either set or
named in a comment that says why it is absent (workloads inherit them).
Usage: check_unit.py vigie.service"""
import re
import sys

REQUIRED = {
    "Type": "notify",
    "NotifyAccess": "main",
    "Restart": "always",
    "KillMode": "mixed",
    "Delegate": "yes",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "StartLimitIntervalSec": "0",
    "WantedBy": "multi-user.target",
}
# Directives that break supervision (core_pattern, setuid workloads, cgroup delegation, ...):
# they must stay out, and the file must say why.
MUST_BE_ABSENT = [
    "NoNewPrivileges", "ProtectKernelTunables", "ProtectControlGroups", "ProtectSystem",
    "ProtectHome", "PrivateTmp", "PrivateDevices", "DevicePolicy", "PrivateNetwork",
    "RestrictAddressFamilies", "IPAddressDeny", "ProtectKernelModules", "ProtectKernelLogs",
    "ProtectClock", "ProtectHostname", "ProtectProc", "ProcSubset", "RestrictNamespaces",
    "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute",
    "SystemCallFilter", "SystemCallArchitectures", "CapabilityBoundingSet", "User",
    "OOMScoreAdjust", "MemoryMax", "RuntimeDirectory",
]


def seconds(text):
    match = re.fullmatch(r"(\d+)(ms|s|min)?", text)
    if not match:
        return None
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "min": 60, None: 1}[match.group(2)]


def main():
    with open(sys.argv[1], encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    settings = {}
    comments = []
    comment_before = {}
    pending = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped)
            pending.append(stripped)
        elif "=" in stripped:
            key, value = stripped.split("=", 1)
            settings.setdefault(key, []).append(value)
            comment_before[key] = " ".join(pending)
            pending = []
        else:
            pending = []
    problems = []
    for key, value in REQUIRED.items():
        if value not in settings.get(key, []):
            problems.append(f"{key}={value} is missing")
    exec_start = settings.get("ExecStart", [""])[0]
    if not exec_start.startswith("/usr/bin/vigied "):
        problems.append(f"ExecStart does not run /usr/bin/vigied: {exec_start}")
    watchdog = seconds(settings.get("WatchdogSec", ["0"])[0])
    if not watchdog or watchdog <= 0:
        problems.append("WatchdogSec must be set (vigied pings from its loop)")
    stop = seconds(settings.get("TimeoutStopSec", ["90s"])[0])
    if stop is None or stop <= 10:
        problems.append("TimeoutStopSec must exceed the default workload stop.timeout (10s)")
    if "re-adopt" not in comment_before.get("KillMode", ""):
        problems.append("KillMode=mixed needs its comment: no re-adoption of workloads yet")
    comment_text = "\n".join(comments)
    for key in MUST_BE_ABSENT:
        if key in settings:
            problems.append(f"{key}= is set, but workloads inherit it and it breaks supervision")
        if not re.search(rf"\b{key}=[^\n]*", comment_text):
            problems.append(f"{key}= is absent without a comment saying why")
    for problem in problems:
        print(f"check_unit: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_unit: ok ({len(MUST_BE_ABSENT)} hardening directives explained)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
