"""Container smoke test (`make test-container`): build the image with podman and run it for real.

Sets the machine up with `../shared/container/local-podman.sh` (beside the clone, as in CI), builds
the Dockerfile as that script's header says, then runs the image read-only as a numeric user
against a page served on 127.0.0.1: a baseline check, an edit that must be detected, the daemon
turning healthy, and SIGTERM stopping it cleanly within 10 s. Every wait is bounded. Needs root
(the setup script installs packages) and prints the image size at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO.parent / "shared" / "container" / "local-podman.sh"
IMAGE = "localhost/watcher:test"
UID = 10001
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_TIMEOUT = 1800  # the first build also makes the base image
STOP_WITHIN = 10.0

PARAS = [
    "The Government has published its kinship care strategy.",
    "Kinship carers will receive an allowance from April.",
]


class Failure(Exception):
    """A step of the smoke test failed; the message says which and what was seen."""


def run(*args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(args), flush=True)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise Failure(f"`{' '.join(args)}` exited {proc.returncode}:\n{tail}")
    return proc


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(1.0)
    raise Failure(f"{what}: not within {timeout:.0f}s")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


class Pages:
    """A loopback page server whose pages the test edits; no validators, so no 304 hides an edit."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = pages.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def set(self, path: str, title: str, paragraphs: list[str]) -> None:
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        self.pages[path] = (
            f"<!doctype html><html><head><title>{title}</title></head>"
            f"<body><main><h1>{title}</h1>{body}</main></body></html>"
        ).encode()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def build() -> float:
    expect(
        os.geteuid() == 0, "run as root: the setup script installs podman and builds a base image"
    )
    expect(SETUP.is_file(), f"{SETUP}: not found; clone shared/ beside the repository")
    sources_list = Path("/etc/apt/sources.list")
    if not sources_list.exists():
        # The setup script greps this file for the Debian mirror under `set -o pipefail`; on a
        # machine whose apt sources live only in sources.list.d, the missing file stops it.
        # An empty file is what apt itself treats as "no entries here".
        sources_list.touch()
    base = run("bash", str(SETUP), timeout=BUILD_TIMEOUT).stdout.strip().splitlines()[-1]
    args = ["podman", "build", "--format", "docker"]
    if CA_BUNDLE.is_file():
        args += ["--secret", f"id=pipca,src={CA_BUNDLE}"]
    started = time.monotonic()
    run(*args, "--build-arg", f"BASE={base}", "-t", IMAGE, str(REPO), timeout=BUILD_TIMEOUT)
    return time.monotonic() - started


def smoke(tmp: Path, pages: Pages) -> None:
    data = tmp / "data"
    data.mkdir()
    os.chown(data, UID, UID)  # a bind-mounted data directory must belong to the container's user
    data.chmod(0o700)
    config = tmp / "sources.toml"
    config.write_text(
        "[watcher]\n"
        'per_host_gap = "0s"\n'
        'timeout = "5s"\n'
        "[egress]\n"
        'allow_cidrs = ["127.0.0.0/8"]\n'
        "[[source]]\n"
        'name = "kinship"\n'
        f'url = "http://127.0.0.1:{pages.port}/kinship"\n'
        'every = "1h"\n'
    )
    config.chmod(0o644)
    pages.set("/kinship", "Kinship care strategy", PARAS)
    box = [
        "--read-only",
        "--user",
        f"{UID}:{UID}",
        "--tmpfs",
        "/tmp",
        "--network=host",
        "-v",
        f"{data}:/data",
        "-v",
        f"{config}:/config/sources.toml:ro",
    ]

    uid = run("podman", "run", "--rm", *box, "--entrypoint", "id", IMAGE, "-u").stdout.strip()
    expect(uid == str(UID), f"the container runs as uid {uid}, not {UID}")

    out = run("podman", "run", "--rm", *box, IMAGE, "check").stdout
    expect("baseline" in out, f"first check is not a baseline:\n{out}")
    pages.set("/kinship", "Kinship care strategy", [*PARAS, "Funding of £40 million is confirmed."])
    out = run("podman", "run", "--rm", *box, IMAGE, "check").stdout
    expect("CHANGED" in out, f"the edit was not detected:\n{out}")
    found = json.loads(
        run("podman", "run", "--rm", *box, IMAGE, "changes", "--format", "json").stdout
    )
    expect(
        len(found) == 1 and "£40 million" in json.dumps(found, ensure_ascii=False),
        f"watcher changes --format json: {found}",
    )

    name = f"watcher-smoke-{os.getpid()}"
    run("podman", "run", "-d", "--name", name, *box, IMAGE)  # the image's own command: run
    try:
        took = wait_for(
            lambda: run("podman", "healthcheck", "run", name, check=False).returncode == 0,
            90,
            "the daemon reported healthy (podman healthcheck run)",
        )
        print(f"healthy after {took:.0f}s", flush=True)
        started = time.monotonic()
        run("podman", "stop", "-t", str(int(STOP_WITHIN)), name, timeout=60)
        stopped = time.monotonic() - started
        code = run("podman", "inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        logs = run("podman", "logs", name)
        expect(code == "0", f"exit code {code} after SIGTERM:\n{logs.stderr[-2000:]}")
        expect(stopped < STOP_WITHIN, f"took {stopped:.1f}s to stop on SIGTERM")
        expect("daemon stopped" in logs.stdout + logs.stderr, "no 'daemon stopped' in the log")
        print(f"stopped on SIGTERM in {stopped:.1f}s, exit code 0", flush=True)
        changed = _diff(name)
    finally:
        run("podman", "rm", "-f", name, check=False)
    # podman itself adds mount points (/etc/hosts, /etc/resolv.conf) to any container: what a
    # container that runs nothing shows is the runtime's, anything more was written by watcher.
    idle = f"watcher-idle-{os.getpid()}"
    run("podman", "run", "--name", idle, *box, "--entrypoint", "true", IMAGE)
    try:
        runtime_own = _diff(idle)
    finally:
        run("podman", "rm", "-f", idle, check=False)
    outside = sorted(p for p in changed - runtime_own if not p.startswith(("/data", "/tmp")))
    expect(not outside, f"the container wrote outside /data and /tmp: {outside}")
    print(f"podman diff: {sorted(changed)} (an idle container shows {sorted(runtime_own)})")
    owners = {(p.name, p.stat().st_uid) for p in data.iterdir()}
    expect(("watcher.db", UID) in owners, f"/data holds {owners}")


def _diff(container: str) -> set[str]:
    """Paths `podman diff` reports as changed or added in the container's root filesystem."""
    found = json.loads(run("podman", "diff", "--format", "json", container).stdout or "{}")
    return {p for paths in found.values() for p in paths or []}


def inspect_image() -> int:
    size = int(run("podman", "image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    health = run(
        "podman", "image", "inspect", "--format", "{{json .HealthCheck}}", IMAGE
    ).stdout.strip()
    expect("watcher" in health and "health" in health, f"no HEALTHCHECK in the image: {health}")
    probe = run(
        "podman",
        "run",
        "--rm",
        "--network=none",
        "--entrypoint",
        "sh",
        IMAGE,
        "-c",
        # watcher is the control: the probe finds what is there.
        "for c in watcher gcc cc g++ make pip pip3; do command -v $c; done; "
        "ls -d /root/.cache/pip /tmp/dist 2>/dev/null",
        check=False,
    )
    found = probe.stdout.split()
    expect(found[:1] == ["/opt/venv/bin/watcher"], f"the probe did not find watcher: {found}")
    expect(found[1:] == [], f"compilers, pip or build leftovers in the image: {found[1:]}")
    return size


def main() -> int:
    if shutil.which("bash") is None:
        print("smoke: bash is needed for the setup script", file=sys.stderr)
        return 1
    pages = Pages()
    try:
        seconds = build()
        with tempfile.TemporaryDirectory(prefix="watcher-smoke-") as tmp:
            smoke(Path(tmp), pages)
        size = inspect_image()
    except (Failure, subprocess.TimeoutExpired) as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        pages.close()
    print(f"smoke: passed; build {seconds:.0f}s, image {IMAGE} {size / 1e6:.0f} MB ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
