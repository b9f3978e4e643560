#!/usr/bin/env python3
"""Runs the DaemonSet's install-core-helper script (from the rendered manifests) with sh, in a
temp dir standing for the image and the host: with no helper in the image (it must exit 0 and
say crash capture is off), with a dynamically linked one (not copied: the host need not have its
libraries), and with STATIC_HELPER, the build's statically linked vigie-coredump (it must land
executable at the host path, with no temp file left, and run).
Usage: run_init_container.py RENDERED.yaml STATIC_HELPER"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import yaml

IMAGE_HELPER = "/usr/libexec/vigie/vigie-coredump"


def main():
    with open(sys.argv[1], encoding="utf-8") as stream:
        docs = [d for d in yaml.safe_load_all(stream) if d]
    spec = next(d for d in docs if d["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    init = next(c for c in spec["initContainers"] if c["name"] == "install-core-helper")
    command = init["command"]
    host_dir = init["volumeMounts"][0]["mountPath"]
    assert command[:2] == ["/bin/sh", "-c"], command
    with tempfile.TemporaryDirectory() as work:
        image = os.path.join(work, "image")
        host = os.path.join(work, "host")
        os.makedirs(image)
        os.makedirs(host)
        script = command[2].replace(IMAGE_HELPER, f"{image}/vigie-coredump")
        script = script.replace(host_dir, host)

        def run():
            done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True,
                                  check=False)
            print(done.stdout + done.stderr, end="")
            return done

        done = run()
        if done.returncode != 0 or "crash capture stays off" not in done.stdout:
            print(f"without a helper: exit {done.returncode}", file=sys.stderr)
            return 1
        if os.listdir(host):
            print(f"without a helper it wrote {os.listdir(host)}", file=sys.stderr)
            return 1

        shutil.copy("/bin/true", f"{image}/vigie-coredump")
        done = run()
        if done.returncode != 0 or "dynamically linked" not in done.stdout or os.listdir(host):
            print(f"a dynamic helper: exit {done.returncode}, host has {os.listdir(host)}",
                  file=sys.stderr)
            return 1

        shutil.copy(sys.argv[2], f"{image}/vigie-coredump")
        done = run()
        installed = os.path.join(host, "vigie-coredump")
        if done.returncode != 0 or not os.path.isfile(installed):
            print(f"with a helper: exit {done.returncode}, host has {os.listdir(host)}",
                  file=sys.stderr)
            return 1
        if os.listdir(host) != ["vigie-coredump"]:
            print(f"leftovers on the host: {os.listdir(host)}", file=sys.stderr)
            return 1
        if stat.S_IMODE(os.stat(installed).st_mode) != 0o755:
            print("the installed helper is not mode 0755", file=sys.stderr)
            return 1
        if subprocess.run([installed, "--help"], capture_output=True,
                          check=False).returncode != 0:
            print("the installed helper does not run", file=sys.stderr)
            return 1
    print("install-core-helper: off without a helper, refuses a dynamic one, installs a static "
          "one atomically")
    return 0


if __name__ == "__main__":
    sys.exit(main())
