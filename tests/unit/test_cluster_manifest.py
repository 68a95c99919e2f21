"""cluster.yaml and deploy/k8s, checked offline against the schemas and the code they configure.

The RayService is validated with KubeRay's own CRD schema (../shared/k8s/crds, never copied
here) made strict: every object that lists its properties refuses any other key, so a typo
fails instead of being dropped by the API server. The embedded Serve config is checked with
Ray's schema and by building the application graph it names, and the environment the pods get
is checked with the service's own settings code.
"""

from __future__ import annotations

import copy
import functools
import importlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CRD = SHARED / "k8s" / "crds" / "ray.io_rayservices.yaml"
K8S = ROOT / "deploy" / "k8s"
JOB = K8S / "jobs" / "db-upgrade.yaml"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")

# Variables a pod may be given that the service does not read itself: who reads each, and
# the document that says so.
THIRD_PARTY_VARIABLES = {
    "CSQL_PROXY_INSTANCE_CONNECTION_NAME": (
        "the Cloud SQL Auth Proxy sidecar: the instance it serves",
        "deploy/README.md",
    ),
    "REDIS_PASSWORD": (
        "KubeRay's gcsFaultToleranceOptions.redisPassword (secretKeyRef), when enabled",
        "deploy/README.md",
    ),
    "GOOGLE_APPLICATION_CREDENTIALS": (
        "google-auth: a key file (left unset under Workload Identity)",
        "deploy/README.md",
    ),
    "STORAGE_EMULATOR_HOST": ("google-cloud-storage: an emulator", "README.md"),
    "PUBSUB_EMULATOR_HOST": ("google-cloud-pubsub: an emulator", "README.md"),
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": (
        "Ray Serve: its controller's loop",
        "docs/performance.md",
    ),
    "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": (
        "Ray Serve: each replica's metrics export",
        "docs/performance.md",
    ),
}


# -- loading -----------------------------------------------------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _cluster() -> dict[str, Any]:
    doc: dict[str, Any] = _yaml(ROOT / "cluster.yaml")
    return doc


def _serve_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(_cluster()["spec"]["serveConfigV2"])
    return config


def _application() -> dict[str, Any]:
    (app,) = _serve_config()["applications"]
    assert isinstance(app, dict)
    return app


def _head() -> dict[str, Any]:
    head: dict[str, Any] = _cluster()["spec"]["rayClusterConfig"]["headGroupSpec"]
    return head


def _worker_group() -> dict[str, Any]:
    (group,) = _cluster()["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    assert isinstance(group, dict)
    return group


def _pod_specs() -> dict[str, dict[str, Any]]:
    """Every pod spec this deployment creates: head, workers and the migration Job."""
    return {
        "head": _head()["template"]["spec"],
        "worker": _worker_group()["template"]["spec"],
        "db-upgrade job": _yaml(JOB)["spec"]["template"]["spec"],
    }


def _configmap() -> dict[str, Any]:
    doc: dict[str, Any] = _yaml(K8S / "configmap.yaml")
    return doc


def _secret_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (K8S / "secrets.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _kustomization() -> dict[str, Any]:
    doc: dict[str, Any] = _yaml(K8S / "kustomization.yaml")
    return doc


def _secret_name() -> str:
    (generator,) = _kustomization()["secretGenerator"]
    return str(generator["name"])


# -- the strict CRD schema ------------------------------------------------------------------------


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OpenAPI v3 schema that refuses keys it does not list.

    Every object schema with ``properties`` and no ``additionalProperties`` or
    ``x-kubernetes-preserve-unknown-fields`` gets ``additionalProperties: false``. A schema
    marked ``x-kubernetes-int-or-string`` without types of its own accepts integers and strings.
    """
    strict = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("x-kubernetes-int-or-string") and "type" not in node:
                node.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(strict)
    return strict


@functools.cache
def _rayservice_schema() -> dict[str, Any]:
    if not CRD.exists():
        pytest.skip(
            f"KubeRay's CRD is not at {CRD} (a clone outside the workspace has no ../shared): "
            "the RayService schema checks need it"
        )
    crd = _yaml(CRD)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return strict_schema(version["schema"]["openAPIV3Schema"])


def schema_errors(document: Any, schema: dict[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def _pod_template_schema() -> dict[str, Any]:
    """KubeRay embeds corev1.PodTemplateSpec for each worker group: the same schema (strict)
    checks any other pod template of ours."""
    spec = _rayservice_schema()["properties"]["spec"]["properties"]
    groups = spec["rayClusterConfig"]["properties"]["workerGroupSpecs"]
    template: dict[str, Any] = groups["items"]["properties"]["template"]
    return template


def test_cluster_yaml_is_a_rayservice_that_the_strict_crd_schema_accepts() -> None:
    doc = _cluster()
    assert doc["apiVersion"] == "ray.io/v1" and doc["kind"] == "RayService"
    assert schema_errors(doc, _rayservice_schema()) == []


@pytest.mark.parametrize(
    ("path", "typo"),
    [
        (("spec", "rayClusterConfig", "headGroupSpec"), ("rayStartParams", "rayStartParms")),
        (("spec",), ("upgradeStrategy", "upgradeStrategey")),
        (
            ("spec", "rayClusterConfig", "headGroupSpec", "template", "spec"),
            ("nodeSelector", "nodeSelecter"),
        ),
    ],
)
def test_a_misspelt_key_is_rejected(path: tuple[str, ...], typo: tuple[str, str]) -> None:
    doc = _cluster()
    node = doc
    for key in path:
        node = node[key]
    right, wrong = typo
    node[wrong] = node.pop(right)
    errors = schema_errors(doc, _rayservice_schema())
    assert any(wrong in error for error in errors), errors


def test_a_misspelt_container_field_is_rejected() -> None:
    doc = _cluster()
    (proxy,) = doc["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"][
        "initContainers"
    ]
    proxy["restartPolicyy"] = proxy.pop("restartPolicy")
    assert any("restartPolicyy" in e for e in schema_errors(doc, _rayservice_schema()))


def test_wrong_types_are_rejected() -> None:
    doc = _cluster()
    doc["spec"]["rayClusterConfig"]["headGroupSpec"]["rayStartParams"]["num-cpus"] = 0
    doc["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["minReplicas"] = "2"
    errors = schema_errors(doc, _rayservice_schema())
    assert any("num-cpus" in e and "string" in e for e in errors), errors
    assert any("minReplicas" in e and "integer" in e for e in errors), errors


def test_int_or_string_fields_take_both_and_nothing_else() -> None:
    doc = _cluster()
    worker = doc["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"]
    probe = worker["initContainers"][0]["startupProbe"]["httpGet"]
    resources = worker["containers"][0]["resources"]["limits"]
    for port, cpu in ((9090, 6), ("proxy-health", "6")):
        probe["port"], resources["cpu"] = port, cpu
        assert schema_errors(doc, _rayservice_schema()) == []
    probe["port"] = [9090]
    assert any("port" in e for e in schema_errors(doc, _rayservice_schema()))


def test_the_strict_walker_gives_untyped_int_or_string_both_types() -> None:
    schema = strict_schema(
        {"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": True}}}
    )
    assert schema_errors({"port": 8080}, schema) == []
    assert schema_errors({"port": "http"}, schema) == []
    assert schema_errors({"port": 1.5}, schema) != []
    assert schema_errors({"port": 1, "other": 2}, schema) != []


def test_the_crds_are_never_copied_into_the_repository() -> None:
    skipped = {".git", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules"}
    for path in ROOT.rglob("*.yaml"):
        if skipped.isdisjoint(path.relative_to(ROOT).parts):
            assert "openAPIV3Schema" not in path.read_text(errors="ignore"), path


def _commented_block(key: str) -> dict[str, Any]:
    """The YAML of a commented-out ``# key:`` block in cluster.yaml, uncommented."""
    lines = (ROOT / "cluster.yaml").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == f"# {key}:")
    indent = lines[start].index("#")
    block = []
    for line in lines[start:]:
        if not line.strip().startswith("#") or line.index("#") != indent:
            break
        block.append(line[indent + 2 :])
    parsed: dict[str, Any] = yaml.safe_load("\n".join(block))
    return parsed


def test_the_documented_gcs_fault_tolerance_block_is_valid_when_uncommented() -> None:
    doc = _cluster()
    options = _commented_block("gcsFaultToleranceOptions")["gcsFaultToleranceOptions"]
    doc["spec"]["rayClusterConfig"]["gcsFaultToleranceOptions"] = options
    assert schema_errors(doc, _rayservice_schema()) == []
    assert re.fullmatch(r"[\w.-]+:\d+", options["redisAddress"])
    reference = options["redisPassword"]["valueFrom"]["secretKeyRef"]
    assert reference["name"] == _secret_name()
    assert reference["key"] in THIRD_PARTY_VARIABLES


# -- the Serve application ------------------------------------------------------------------------


def unknown_serve_keys(config: dict[str, Any]) -> list[str]:
    """Keys Ray's Serve schema would silently ignore (it drops unknown keys)."""
    from ray.serve.schema import DeploymentSchema, ServeApplicationSchema, ServeDeploySchema

    found = [f"/{key}" for key in config if key not in ServeDeploySchema.model_fields]
    for app in config.get("applications", []):
        found += [f"app/{key}" for key in app if key not in ServeApplicationSchema.model_fields]
        for deployment in app.get("deployments", []):
            found += [
                f"{deployment.get('name')}/{key}"
                for key in deployment
                if key not in DeploymentSchema.model_fields
            ]
    return found


def _built_deployments(args: dict[str, Any]) -> dict[str, Any]:
    """The deployments ``build_app(args)`` composes, by name, without a Ray cluster."""
    from ray.serve._private.build_app import build_app as build_graph

    from actors.app import build_app

    built = build_graph(build_app(args), name=_application()["name"])
    return {deployment.name: deployment for deployment in built.deployments}


def missing_deployments(app: dict[str, Any]) -> list[str]:
    names = set(_built_deployments(app["args"]))
    return [d["name"] for d in app.get("deployments", []) if d["name"] not in names]


def test_the_serve_config_matches_rays_schema_with_no_ignored_keys() -> None:
    from ray.serve.schema import ServeDeploySchema

    config = _serve_config()
    schema = ServeDeploySchema.model_validate(config)
    assert [app.name for app in schema.applications] == ["vividly"]
    assert unknown_serve_keys(config) == []
    typo = copy.deepcopy(config)
    typo["applications"][0]["deployments"][0]["max_replica_per_node"] = 1
    assert unknown_serve_keys(typo) == ["Gateway/max_replica_per_node"]


def test_the_import_path_is_the_app_builder() -> None:
    import actors.app

    module, _, name = _application()["import_path"].partition(":")
    assert getattr(importlib.import_module(module), name) is actors.app.build_app


def test_the_args_are_app_args_and_name_only_its_fields() -> None:
    from actors.app import AppArgs

    args = _application()["args"]
    AppArgs.model_validate(args)
    assert sorted(set(args) - set(AppArgs.model_fields)) == []


def test_every_overridden_deployment_exists_in_the_built_app() -> None:
    app = _application()
    assert app["deployments"], "the config overrides no deployment"
    assert missing_deployments(app) == []
    typo = copy.deepcopy(app)
    typo["deployments"].append({"name": "Narator"})
    assert missing_deployments(typo) == ["Narator"]


def test_the_pools_autoscale_and_the_providers_get_their_deployments() -> None:
    from actors.app import AppArgs
    from vividly_ray.settings import load_settings

    deployments = _built_deployments(_application()["args"])
    for pool in ("Narrator", "SegmentEncoder"):
        scaling = deployments[pool]._deployment_config.autoscaling_config
        assert scaling is not None, pool
        assert 1 <= scaling.min_replicas < scaling.max_replicas, pool
    # The choices the code makes for these providers (a model writer needs SceneWriter, a
    # remote voice overlaps calls, Pub/Sub needs the bridge) hold for the sized args too.
    expected = AppArgs.from_settings(load_settings(_environment()))
    args = AppArgs.model_validate(_application()["args"])
    assert args.pubsub_bridge == expected.pubsub_bridge is True
    assert (args.scene_writer_replicas > 0) == (expected.scene_writer_replicas > 0)
    assert args.narrator_max_ongoing == expected.narrator_max_ongoing
    assert {"SceneWriter", "PubSubBridge"} <= set(deployments)


def _cpus(quantity: str | int | float) -> float:
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def test_the_app_fits_the_worker_group() -> None:
    group = _worker_group()
    (ray_container,) = group["template"]["spec"]["containers"]
    per_pod = _cpus(ray_container["resources"]["limits"]["cpu"])
    low = high = 0.0
    for name, deployment in _built_deployments(_application()["args"]).items():
        config = deployment._deployment_config
        cpus = float(deployment.ray_actor_options.get("num_cpus", 1))
        assert cpus <= per_pod, name
        scaling = config.autoscaling_config
        most = scaling.max_replicas if scaling else config.num_replicas
        fewest = scaling.min_replicas if scaling else config.num_replicas
        low, high = low + cpus * fewest, high + cpus * most
        spread = next(
            (
                d.get("max_replicas_per_node")
                for d in _application()["deployments"]
                if d["name"] == name
            ),
            None,
        )
        if spread:
            assert fewest <= spread * group["minReplicas"], name
    assert low <= per_pod * group["minReplicas"]
    assert high <= per_pod * group["maxReplicas"]


# -- the Ray cluster ------------------------------------------------------------------------------


def test_ray_version_is_the_pinned_ray() -> None:
    import tomllib

    import ray

    assert _cluster()["spec"]["rayClusterConfig"]["rayVersion"] == ray.__version__
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"ray[serve]=={ray.__version__}" in dependencies


def test_upgrades_start_a_new_cluster_and_the_head_runs_no_work() -> None:
    spec = _cluster()["spec"]
    assert spec["upgradeStrategy"]["type"] == "NewCluster"
    assert _head()["rayStartParams"]["num-cpus"] == "0"
    assert spec["rayClusterConfig"]["enableInTreeAutoscaling"] is True
    group = _worker_group()
    assert 1 <= group["minReplicas"] < group["maxReplicas"]


def test_every_pod_runs_as_the_workload_identity_service_account() -> None:
    account = _yaml(K8S / "serviceaccount.yaml")
    assert account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].endswith(
        ".iam.gserviceaccount.com"
    )
    for name, spec in _pod_specs().items():
        assert spec["serviceAccountName"] == account["metadata"]["name"], name
        assert spec["nodeSelector"]["iam.gke.io/gke-metadata-server-enabled"] == "true", name
        assert spec["securityContext"]["runAsNonRoot"] is True, name


def _proxy(spec: dict[str, Any]) -> dict[str, Any]:
    (proxy,) = [c for c in spec.get("initContainers", []) if c["name"] == "cloud-sql-proxy"]
    assert isinstance(proxy, dict)
    return proxy


def test_the_database_proxy_is_a_native_sidecar_wherever_the_database_is_used() -> None:
    database = urlsplit(_secret_example()["DATABASE_URL"])
    assert database.scheme.startswith("postgresql")
    assert database.hostname == "127.0.0.1"
    specs = _pod_specs()
    proxies = [_proxy(specs["worker"]), _proxy(specs["db-upgrade job"])]
    for proxy in proxies:
        assert proxy["restartPolicy"] == "Always"
        args = proxy["args"]
        for flag in ("--private-ip", "--structured-logs", "--health-check"):
            assert flag in args
        assert f"--port={database.port}" in args
        health_port = next(a.split("=", 1)[1] for a in args if a.startswith("--http-port="))
        ports = {p["name"]: p["containerPort"] for p in proxy["ports"]}
        assert str(ports[proxy["startupProbe"]["httpGet"]["port"]]) == health_port
        (env,) = proxy["env"]
        assert env["valueFrom"]["configMapKeyRef"]["name"] == _configmap()["metadata"]["name"]
        assert env["valueFrom"]["configMapKeyRef"]["key"] in _configmap()["data"]
    assert proxies[0]["image"] == proxies[1]["image"] and proxies[0]["args"] == proxies[1]["args"]


def _env_sources(container: dict[str, Any]) -> set[str]:
    return {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]}


def test_ray_containers_have_resources_the_serve_port_and_the_settings() -> None:
    specs = _pod_specs()
    names = {_configmap()["metadata"]["name"], _secret_name()}
    for role in ("head", "worker"):
        (container,) = specs[role]["containers"]
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            assert resources["requests"][kind] == resources["limits"][kind], (role, kind)
        assert "serve" in {p["name"] for p in container["ports"]}, role
        assert _env_sources(container) == names, role
    (job,) = specs["db-upgrade job"]["containers"]
    assert _env_sources(job) == names


def test_the_migration_job_is_a_valid_pod_template_that_runs_db_upgrade() -> None:
    from actors.cli import build_parser

    job = _yaml(JOB)
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    template = job["spec"]["template"]
    assert schema_errors(template, _pod_template_schema()) == []
    (container,) = template["spec"]["containers"]
    command = container["command"]
    assert command[0] == "vividly"
    parsed = build_parser().parse_args(command[1:])
    assert (parsed.command, parsed.db_command) == ("db", "upgrade")
    assert _configmap()["data"]["VIVIDLY_AUTO_MIGRATE"] == "false"
    broken = copy.deepcopy(template)
    broken["spec"]["containers"][0]["envFromm"] = broken["spec"]["containers"][0].pop("envFrom")
    assert any("envFromm" in e for e in schema_errors(broken, _pod_template_schema()))


# -- images ---------------------------------------------------------------------------------------


def _images(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            else:
                yield from _images(value)
    elif isinstance(node, list):
        for value in node:
            yield from _images(value)


def test_every_image_is_pinned_by_digest() -> None:
    files = [ROOT / "cluster.yaml", *sorted(K8S.rglob("*.yaml"))]
    images = [image for path in files for doc in _documents(path) for image in _images(doc)]
    assert len(images) >= 5  # head, worker, proxy sidecar, Job and its sidecar
    for image in images:
        assert DIGEST.search(image), image
        assert ":latest" not in image, image
    app_images = {image for image in images if "/vividly-ray@" in image}
    assert len(app_images) == 1  # head, workers and the migration run one release


# -- the environment ------------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    """What a pod's envFrom gives it: the ConfigMap, and the Secret (example values)."""
    data = {key: str(value) for key, value in _configmap()["data"].items()}
    return {**data, **_secret_example()}


def _variables_the_code_reads() -> set[str]:
    from vividly_ray.settings import Settings, _variable_name

    return {_variable_name(name) for name in Settings.model_fields}


def test_the_environment_satisfies_what_production_requires() -> None:
    from vividly_ray.settings import CLOUD_REQUIRED, load_settings, requirement_problems

    env = _environment()
    assert env["ENVIRONMENT"] == "production"
    assert requirement_problems(env) == []
    settings = load_settings(env)
    assert (settings.script_writer, settings.narrator) == ("gemini", "google")
    assert settings.uses_gcs and settings.gcs_signer_email
    assert not settings.auth_disabled
    for name in CLOUD_REQUIRED:  # the check is not vacuous: each one is needed
        assert requirement_problems({k: v for k, v in env.items() if k != name}), name


def test_the_pods_run_serve_at_the_cadence_a_laptop_stack_sets() -> None:
    from actors.service_runtime import SERVE_CADENCE

    data = _configmap()["data"]
    assert {name: str(data.get(name)) for name in SERVE_CADENCE} == SERVE_CADENCE


def test_every_configured_variable_is_one_the_code_reads() -> None:
    known = _variables_the_code_reads() | set(THIRD_PARTY_VARIABLES)
    assert sorted(set(_environment()) - known) == []
    # Each exception is one the service really does not read, and its reader is documented.
    assert not set(THIRD_PARTY_VARIABLES) & _variables_the_code_reads()
    for name, (_reader, document) in THIRD_PARTY_VARIABLES.items():
        assert name in (ROOT / document).read_text(), (name, document)
    assert "CSQL_PROXY_INSTANCE_CONNECTION_NAME" in _configmap()["data"]


def test_secrets_are_not_in_the_configmap() -> None:
    data = _configmap()["data"]
    assert "DATABASE_URL" not in data
    assert not [key for key in data if re.search(r"KEY|PASSWORD|TOKEN|SECRET", key)]
    ignored = (K8S / ".gitignore").read_text().split()
    for generator in _kustomization()["secretGenerator"]:
        for env_file in generator["envs"]:
            assert env_file in ignored and (K8S / f"{env_file}.example").exists()


# -- kustomize ------------------------------------------------------------------------------------


def _kustomize_dirs() -> list[Path]:
    return [K8S, ROOT / "deploy" / "monitoring"]


@pytest.mark.parametrize("folder", _kustomize_dirs(), ids=lambda p: p.name)
def test_every_listed_resource_exists_and_is_a_named_object(folder: Path) -> None:
    kustomization = _yaml(folder / "kustomization.yaml")
    assert kustomization["resources"]
    for resource in kustomization["resources"]:
        path = folder / resource
        assert path.is_file() and path.resolve().is_relative_to(folder), resource
        for doc in _documents(path):
            assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], resource


def _kustomize(folder: Path, tmp_path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: `kubectl kustomize` was not run")
    copy_ = tmp_path / folder.name
    shutil.copytree(folder, copy_)
    for example in copy_.glob("*.example"):
        shutil.copy(example, example.with_suffix(""))
    done = subprocess.run(
        [kubectl, "kustomize", str(copy_)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_kubectl_kustomize_builds_what_cluster_yaml_refers_to(tmp_path: Path) -> None:
    docs = _kustomize(K8S, tmp_path)
    for doc in docs:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
    names = {(doc["kind"], doc["metadata"]["name"]) for doc in docs}
    pod = _pod_specs()["worker"]
    assert ("ServiceAccount", pod["serviceAccountName"]) in names
    assert ("ConfigMap", _configmap()["metadata"]["name"]) in names
    assert ("Secret", _secret_name()) in names
    namespace = _cluster()["metadata"]["namespace"]
    assert ("Namespace", namespace) in names
    assert {doc["metadata"].get("namespace", namespace) for doc in docs} == {namespace}
    (secret,) = [doc for doc in docs if doc["kind"] == "Secret"]
    assert set(secret["data"]) == set(_secret_example())


def test_kubectl_kustomize_builds_the_monitoring_objects(tmp_path: Path) -> None:
    docs = _kustomize(ROOT / "deploy" / "monitoring", tmp_path)
    assert sorted(doc["kind"] for doc in docs) == ["PodMonitor", "PodMonitor", "PrometheusRule"]
    assert {doc["apiVersion"] for doc in docs} == {"monitoring.coreos.com/v1"}


@pytest.mark.parametrize(
    ("narrator", "narrators", "encoders"),
    [("piper", 2, 1), ("piper", 3, 2), ("piper", 4, 2), ("silent", 1, 1), ("google", 2, 2)],
)
def test_a_local_stack_runs_one_encoder_per_two_piper_narrators(
    tmp_path: Path, narrator: str, narrators: int, encoders: int
) -> None:
    from actors.app import AppArgs
    from vividly_ray.settings import load_settings

    settings = load_settings(
        {}, check_requirements=False, home=tmp_path, narrator=narrator,
        narrator_pool_size=narrators,
    )  # fmt: skip
    args = AppArgs.from_settings(settings)
    assert (args.encoder_min_replicas, args.encoder_max_replicas) == (encoders, encoders)
    assert args.narrator_min_replicas == narrators
