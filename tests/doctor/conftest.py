"""One real 2-node Ray cluster for the doctor's tests, started the way users do.

``two_node_cluster`` (session-scoped, so every doctor test module shares one start):
``ray start --head`` on its own ports, temp dir and dashboard (the job API, for
``ray job submit``), plus ``ray start --address`` for a second node, both with
``RAY_AUTH_MODE=token``. Each ``ray start --block`` runs in its own process group,
killed when the session ends (even when a test failed); ``ray stop`` is never used
(it would stop every Ray on the machine).

Shared by H-doctor (watched programs with ``RAY_ADDRESS``) and H-doctor-job (the
``--job`` tests): ``ray_start_cluster`` is the fixture's name, ``two_node_cluster``
an alias. ``cluster.run(*command)`` runs a command against it, ``cluster.submit(path,
*options)`` runs the real ``ray job submit`` (retried while the dashboard's agent is
not up yet) and returns the submission id; ``gcs_address``, ``dashboard_url``, ``env``.
(H-doctor: this file replaced a first version by H-doctor-job by mistake and keeps
its interface; one cluster start serves both.)

The cluster is reached only from subprocesses (``env=cluster.env``), so the shared
local Ray of ``tests/conftest.py`` in the pytest process stays up meanwhile.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # doctor_helpers

_TOKEN = "ray-patterns-doctor-tests-0123456789abcdef"


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class RayCluster:
    """A running ``ray start`` cluster: where it is and how to reach it."""

    address: str  # GCS host:port, what RAY_ADDRESS takes
    dashboard_url: str  # for ``ray job submit --address``
    temp_dir: str
    #: os.environ plus RAY_ADDRESS and the auth token
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @property
    def gcs_address(self) -> str:
        return self.address

    def run(self, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``command`` with the cluster's env (RAY_ADDRESS, token), output captured."""
        return subprocess.run(
            list(command), env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def submit(self, program: Path | str, *options: str) -> str:
        """``ray job submit`` ``python program`` and wait for it; its submission id."""
        command = ["ray", "job", "submit", "--address", self.dashboard_url, *options, "--"]
        command += [sys.executable, str(program)]
        done = None
        for _ in range(30):  # right after start: "No available agent to submit job"
            done = self.run(*command)
            text = done.stdout + done.stderr
            found = re.search(r"Job '([^']+)' submitted successfully", text)
            if found and done.returncode == 0:
                return found.group(1)
            if "No available agent" not in text and "Connection refused" not in text:
                break
            time.sleep(1.0)
        assert done is not None
        raise RuntimeError(f"ray job submit failed: {done.stdout}{done.stderr}")


def _start_node(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            ["ray", "start", "--block", "--disable-usage-stats", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as one at the end
        )


def _wait_nodes(env: dict[str, str], count: int, timeout: float = 90.0) -> None:
    """Until ``count`` nodes are alive: one probe driver that connects once and polls
    (a probe process per poll cost ~3 s of driver start each)."""
    probe = (
        "import sys, time, ray\n"
        "ray.init(log_to_driver=False)\n"
        f"deadline = time.monotonic() + {timeout}\n"
        "alive = 0\n"
        "while time.monotonic() < deadline:\n"
        "    alive = sum(1 for n in ray.nodes() if n['Alive'])\n"
        f"    if alive >= {count}:\n"
        "        break\n"
        "    time.sleep(0.2)\n"
        "print(alive)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=timeout + 60
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not last.isdigit() or int(last) < count:
        raise RuntimeError(f"the test cluster did not reach {count} nodes: {last!r} {done.stderr}")


def _wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the test cluster's GCS did not open port {port}")


@pytest.fixture(scope="session")
def ray_start_cluster() -> Iterator[RayCluster]:
    """A head (1 CPU, dashboard) and a worker node (1 CPU) on their own ports."""
    temp_dir = tempfile.mkdtemp(prefix="rp-doctor-cluster-")
    ports = _free_ports(16)
    gcs, dashboard = ports[0], ports[1]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=_TOKEN, RAY_DEDUP_LOGS="0")

    def node_ports(base: int) -> list[str]:
        p = ports[base : base + 7]
        return [
            f"--node-manager-port={p[0]}",
            f"--object-manager-port={p[1]}",
            f"--dashboard-agent-listen-port={p[2]}",
            f"--dashboard-agent-grpc-port={p[3]}",
            f"--runtime-env-agent-port={p[4]}",
            f"--metrics-export-port={p[5]}",
        ]

    cluster = RayCluster(f"127.0.0.1:{gcs}", f"http://127.0.0.1:{dashboard}", temp_dir, env={**env})
    cluster.env["RAY_ADDRESS"] = cluster.address
    logs = Path(temp_dir)
    try:
        cluster.processes.append(
            _start_node(
                [
                    "--head",
                    "--node-ip-address=127.0.0.1",
                    f"--port={gcs}",
                    f"--temp-dir={temp_dir}",
                    "--num-cpus=1",
                    "--include-dashboard=true",
                    "--dashboard-host=127.0.0.1",
                    f"--dashboard-port={dashboard}",
                    f"--ray-client-server-port={ports[15]}",
                    "--min-worker-port=0",
                    "--max-worker-port=0",
                    *node_ports(2),
                ],
                env,
                logs / "head.log",
            )
        )
        _wait_port(gcs)  # the worker node connects (and retries) on its own from here
        cluster.processes.append(
            _start_node(
                [
                    f"--address={cluster.address}",
                    "--node-ip-address=127.0.0.1",
                    "--num-cpus=1",
                    "--min-worker-port=0",
                    "--max-worker-port=0",
                    *node_ports(8),
                ],
                env,
                logs / "worker.log",
            )
        )
        _wait_nodes(cluster.env, 2)
        yield cluster
    finally:
        # SIGKILL at once: a node's graceful stop takes ~5 s and keeps nothing we need
        # (the object store's memory is unlinked shared memory, freed with the processes)
        for process in reversed(cluster.processes):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        for process in cluster.processes:
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def two_node_cluster(ray_start_cluster: RayCluster) -> RayCluster:
    return ray_start_cluster
