"""deploy/deploy.sh against fake docker, kubectl, vividly and gcloud executables.

The fakes append their argv to a log and answer what the script asks: digests from the
registry, the RayService's state, the image the active cluster runs, the smoke test's verdict.
The fake kubectl keeps the image of the last applied RayService as "the cluster", so a rollback
can be seen taking effect.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "deploy.sh"
REPO = "us-central1-docker.pkg.dev/acme-prod/vividly/vividly-ray"
NEW = "sha256:" + "a" * 64
OLD = "sha256:" + "1" * 64
PROXY = "sha256:" + "b" * 64
BASE = "sha256:" + "c" * 64
PLACEHOLDER = "sha256:" + "0" * 64

FAKE_DOCKER = """#!/usr/bin/env bash
printf 'docker %s\\n' "$*" >>"$FAKE_LOG"
if [[ $1 == buildx && $2 == imagetools && $3 == inspect ]]; then
    case $4 in
        *vividly-ray:*) printf '"%s"\\n' "$FAKE_APP_DIGEST" ;;
        *cloud-sql-proxy:*) printf '"%s"\\n' "$FAKE_PROXY_DIGEST" ;;
        python:*) printf '"%s"\\n' "$FAKE_BASE_DIGEST" ;;
        *) echo "no such image: $4" >&2; exit 1 ;;
    esac
fi
"""

FAKE_KUBECTL = r"""#!/usr/bin/env bash
printf 'kubectl %s\n' "$*" >>"$FAKE_LOG"
args="$*"
spec="$FAKE_STATE/spec-image"
case $args in
    "apply -f "*)
        file=${args#apply -f }
        if grep -q '^kind: RayService' "$file"; then
            image=$(grep -Eo '[^ ]+/vividly-ray@sha256:[0-9a-f]{64}' "$file" | head -n 1)
            printf '%s\n' "$image" >"$spec"
            printf '%s\n' "$image" >>"$FAKE_STATE/applied"
        else
            printf '%s\n' "$file" >>"$FAKE_STATE/applied-other"
        fi
        ;;
    *"get rayservice"*"--ignore-not-found"*)
        if [[ -f $spec ]]; then tr -d '\n' <"$spec"; fi
        ;;
    *"get rayservice"*)
        if [[ -n ${FAKE_NEVER_READY:-} ]] && grep -q "$FAKE_NEVER_READY" "$spec"; then
            echo '4|4|True|True|vividly-old'
        else
            echo '4|4|True|False|vividly-active'
        fi
        ;;
    *"get raycluster vividly-active"*) tr -d '\n' <"$spec" ;;
    *"wait --for=condition=complete"*) exit "${FAKE_MIGRATION_RC:-0}" ;;
    *"logs job/"*) echo "alembic: relation already exists" ;;
    *"delete job"*) ;;
    *"port-forward"*)
        port=${args##* }
        port=${port%%:*}
        exec "$FAKE_PYTHON" -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(120)' "$port"
        ;;
    *) echo "fake kubectl: unexpected: $args" >&2; exit 3 ;;
esac
"""

FAKE_VIVIDLY = """#!/usr/bin/env bash
printf 'vividly %s\\n' "$*" >>"$FAKE_LOG"
fails_on=${FAKE_SMOKE_FAILS_ON:-}
if [[ -n $fails_on ]] && grep -q "$fails_on" "$FAKE_STATE/spec-image"; then
    echo "smoke: failed at generating_video: no narrator replica answered" >&2
    exit 1
fi
echo "smoke: completed"
"""

FAKE_GCLOUD = """#!/usr/bin/env bash
printf 'gcloud %s\\n' "$*" >>"$FAKE_LOG"
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    log: list[str]
    applied: list[str]
    manifest: str
    job: str


@dataclass
class Workspace:
    tmp: Path
    manifest: Path
    job: Path
    state: Path
    env: dict[str, str]

    def run(self, **overrides: str) -> Run:
        env = {**self.env, **overrides}
        done = subprocess.run(
            ["bash", str(SCRIPT)],
            env={k: v for k, v in env.items() if v is not None and v != "<unset>"},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.tmp,
        )
        log_file = Path(env["FAKE_LOG"])
        applied = self.state / "applied"
        return Run(
            returncode=done.returncode,
            stdout=done.stdout,
            stderr=done.stderr,
            log=log_file.read_text().splitlines() if log_file.exists() else [],
            applied=applied.read_text().split() if applied.exists() else [],
            manifest=self.manifest.read_text(),
            job=self.job.read_text(),
        )


def _tool(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    manifest = tmp_path / "cluster.yaml"
    shutil.copy(ROOT / "cluster.yaml", manifest)
    job = tmp_path / "db-upgrade.yaml"
    shutil.copy(ROOT / "deploy" / "k8s" / "jobs" / "db-upgrade.yaml", job)
    # The cluster runs the previous release.
    (state / "spec-image").write_text(f"{REPO}@{OLD}\n")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LC_ALL": "C",
        "DOCKER": str(_tool(bin_dir, "docker", FAKE_DOCKER)),
        "KUBECTL": str(_tool(bin_dir, "kubectl", FAKE_KUBECTL)),
        "VIVIDLY": str(_tool(bin_dir, "vividly", FAKE_VIVIDLY)),
        "GCLOUD": str(_tool(bin_dir, "gcloud", FAKE_GCLOUD)),
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "FAKE_STATE": str(state),
        "FAKE_PYTHON": sys.executable,
        "FAKE_APP_DIGEST": NEW,
        "FAKE_PROXY_DIGEST": PROXY,
        "FAKE_BASE_DIGEST": BASE,
        "IMAGE_REPO": REPO,
        "SMOKE_API_KEY": "vk_smoke",
        "SMOKE_URL": "https://vividly.internal.example",
        "MANIFEST": str(manifest),
        "MIGRATION_JOB": str(job),
        "TAG": "r42",
        "POLL_INTERVAL_S": "0.05",
        "WAIT_TIMEOUT_S": "5",
    }
    return Workspace(tmp=tmp_path, manifest=manifest, job=job, state=state, env=env)


def _images(text: str) -> list[str]:
    return re.findall(r"image:\s*(\S+)", text)


def test_a_release_pins_the_new_digest_everywhere_and_applies_once(workspace: Workspace) -> None:
    run = workspace.run()
    assert run.returncode == 0, run.stderr
    new_image = f"{REPO}@{NEW}"
    # Both Ray containers carry the pushed digest; no placeholder is left anywhere.
    assert [i for i in _images(run.manifest) if "vividly-ray" in i] == [new_image, new_image]
    assert PLACEHOLDER not in run.manifest and PLACEHOLDER not in run.job
    proxy = f"gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.18.2@{PROXY}"
    assert proxy in _images(run.manifest) and proxy in _images(run.job)
    assert new_image in _images(run.job)
    assert run.applied == [new_image]
    # Built for GKE's nodes on a base pinned by digest, pushed under the tag, then resolved.
    build = next(line for line in run.log if line.startswith("docker build "))
    assert "--platform linux/amd64" in build
    assert f"--build-arg PYTHON_IMAGE=python:3.11.13-slim-bookworm@{BASE}" in build
    assert f"docker push {REPO}:r42" in run.log
    # The migration ran before the RayService changed, and the smoke test after the wait.
    migrated = run.log.index(
        "kubectl -n vividly wait --for=condition=complete job/vividly-db-upgrade --timeout=900s"
    )
    assert migrated < run.log.index(f"kubectl apply -f {workspace.manifest}")
    assert run.log[-1] == (
        "vividly smoke --url https://vividly.internal.example --api-key vk_smoke"
    )
    assert f"previous: {REPO}@{OLD}" in run.stderr


def test_a_failing_smoke_test_rolls_back_to_the_previous_digest(workspace: Workspace) -> None:
    run = workspace.run(FAKE_SMOKE_FAILS_ON=NEW)
    assert run.returncode != 0
    assert run.applied == [f"{REPO}@{NEW}", f"{REPO}@{OLD}"]
    assert [i for i in _images(run.manifest) if "vividly-ray" in i] == [f"{REPO}@{OLD}"] * 2
    assert f"{REPO}@{OLD}" in _images(run.job)
    assert "failed at generating_video" in run.stderr
    assert "rolling back" in run.stderr and "rolled back" in run.stderr
    # The smoke test is not repeated on the rollback.
    assert sum(line.startswith("vividly smoke") for line in run.log) == 1


def test_a_cluster_that_never_becomes_ready_is_rolled_back(workspace: Workspace) -> None:
    run = workspace.run(FAKE_NEVER_READY=NEW, WAIT_TIMEOUT_S="1")
    assert run.returncode != 0
    assert "timed out" in run.stderr
    assert run.applied == [f"{REPO}@{NEW}", f"{REPO}@{OLD}"]
    assert not any(line.startswith("vividly") for line in run.log)


def test_it_refuses_to_run_without_the_required_variables(workspace: Workspace) -> None:
    run = workspace.run(IMAGE_REPO="<unset>", SMOKE_API_KEY="")
    assert run.returncode != 0
    assert "IMAGE_REPO" in run.stderr and "SMOKE_API_KEY" in run.stderr
    assert "missing required variables" in run.stderr
    assert run.log == []  # no tool was called
    assert run.manifest == (ROOT / "cluster.yaml").read_text()


def test_it_refuses_a_repository_that_is_not_the_vividly_image(workspace: Workspace) -> None:
    run = workspace.run(IMAGE_REPO="us-central1-docker.pkg.dev/acme/vividly/other")
    assert run.returncode != 0
    assert "/vividly-ray" in run.stderr
    assert run.log == []


def test_without_a_previous_release_a_failure_exits_without_a_rollback(
    workspace: Workspace,
) -> None:
    (workspace.state / "spec-image").unlink()  # no RayService yet; the manifest has zeros
    run = workspace.run(FAKE_SMOKE_FAILS_ON=NEW)
    assert run.returncode != 0
    assert "no previous release" in run.stderr
    assert run.applied == [f"{REPO}@{NEW}"]


def test_a_given_digest_is_deployed_without_building(workspace: Workspace) -> None:
    given = "sha256:" + "d" * 64
    run = workspace.run(IMAGE_DIGEST=given)
    assert run.returncode == 0, run.stderr
    assert run.applied == [f"{REPO}@{given}"]
    assert not any(line.startswith(("docker build ", "docker push ")) for line in run.log)


def test_a_failed_migration_stops_before_the_rayservice_changes(workspace: Workspace) -> None:
    run = workspace.run(FAKE_MIGRATION_RC="1")
    assert run.returncode != 0
    assert "migration failed" in run.stderr
    assert "relation already exists" in run.stderr  # the Job's log is shown
    assert run.applied == []
    assert not any(line.startswith("vividly") for line in run.log)


def test_without_a_smoke_url_it_port_forwards_to_the_serve_service(
    workspace: Workspace,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = workspace.run(SMOKE_URL="<unset>", SMOKE_PORT=str(port))
    assert run.returncode == 0, run.stderr
    assert f"kubectl -n vividly port-forward svc/vividly-serve-svc {port}:8000" in run.log
    assert f"vividly smoke --url http://127.0.0.1:{port} --api-key vk_smoke" in run.log
    with socket.socket() as again:  # the port-forward was stopped on the way out
        again.bind(("127.0.0.1", port))


def test_cluster_credentials_are_fetched_when_a_cluster_is_named(workspace: Workspace) -> None:
    run = workspace.run(GKE_CLUSTER="vividly", GKE_LOCATION="us-central1", PROJECT_ID="acme")
    assert run.returncode == 0, run.stderr
    assert run.log[0] == (
        "gcloud container clusters get-credentials vividly --location us-central1 --project acme"
    )


def test_the_script_is_strict_and_shellcheck_clean() -> None:
    text = SCRIPT.read_text()
    assert "set -euo pipefail" in text
    for tool in ("DOCKER", "KUBECTL", "VIVIDLY", "GCLOUD"):
        assert f"{tool}=${{{tool}:-" in text
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    done = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
