"""The deployment definitions: the container image (Docker's own parser), the Serve config, the
alert rules (against the metrics that really exist) and the Terraform (structure and contents)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dockerfile
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "deploy" / "Dockerfile")))


def _base_image(commands: list[dockerfile.Command]) -> str:
    """The image of the (only) FROM, with ``${ARG}`` replaced by the ARG's default."""
    defaults: dict[str, str] = {}
    for command in commands:
        if command.cmd == "ARG":
            name, _, default = command.value[0].partition("=")
            defaults[name] = default
        if command.cmd == "FROM":
            image = command.value[0]
            for name, default in defaults.items():
                image = image.replace("${" + name + "}", default)
            return image
    raise AssertionError("no FROM")


def test_dockerfile_parses_and_uses_the_supported_python() -> None:
    commands = _instructions()
    assert [c.cmd for c in commands].count("FROM") == 1
    base = _base_image(commands)
    # A pinned patch release (deploy.sh adds its digest), never a moving 3.11 tag.
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), base
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "3.11" in project["requires-python"]


def test_the_image_has_what_kuberay_runs_in_it() -> None:
    commands = _instructions()
    runs = " ".join(c.value[0] for c in commands if c.cmd == "RUN")
    # KubeRay's RayService worker readiness probe execs wget; the slim base lacks it.
    assert re.search(r"apt-get install[^&]*\bwget\b", runs), runs
    # uid 1000, the user KubeRay's defaults (and the pods' securityContext) expect.
    assert "--uid 1000" in runs
    user = next(c.value[0] for c in commands if c.cmd == "USER")
    assert user.split(":")[0] == "1000"
    env = next(c.value for c in commands if c.cmd == "ENV")
    home = dict(zip(env[::2], env[1::2], strict=True))["VIVIDLY_HOME"]
    assert f"chown ray:ray {home}" in runs


def test_every_copied_path_exists_in_the_repository() -> None:
    for command in _instructions():
        if command.cmd == "COPY":
            *sources, _destination = command.value
            for source in sources:
                assert (ROOT / source).exists(), source


def test_the_image_runs_the_projects_console_script_as_a_non_root_user() -> None:
    commands = {c.cmd: c.value for c in _instructions()}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert commands["ENTRYPOINT"][0] in scripts
    assert commands["USER"][0] not in ("root", "0")


def test_serve_config_matches_rays_schema_and_the_app_builder() -> None:
    import yaml
    from ray.serve.schema import ServeDeploySchema

    from actors.app import AppArgs

    config = yaml.safe_load((ROOT / "deploy" / "serve_config.yaml").read_text())
    schema = ServeDeploySchema.model_validate(config)
    (app,) = schema.applications
    assert app.import_path == "actors.app:build_app"
    module, _, name = app.import_path.partition(":")
    import importlib

    assert callable(getattr(importlib.import_module(module), name))
    args = AppArgs.model_validate(app.args)
    assert args.narrator_cpus * args.narrator_max_replicas < 2  # fits two cores with the rest


def test_the_app_builder_refuses_unknown_sizes() -> None:
    import pydantic

    from actors.app import AppArgs

    with pytest.raises(pydantic.ValidationError):
        AppArgs.model_validate({"narrator_cpus": 0})
    # A renamed or misspelt size is refused, not silently dropped.
    with pytest.raises(pydantic.ValidationError, match="encoder_replicas"):
        AppArgs.model_validate({"encoder_replicas": 4})


# -- monitoring -----------------------------------------------------------------------------------

MONITORING = ROOT / "deploy" / "monitoring"

# Metrics the rules use that neither the service nor Ray exports, and where they come from.
EXTERNAL_METRICS = {
    f"stackdriver_pubsub_subscription_pubsub_googleapis_com_subscription_{name}": (
        f"Cloud Monitoring pubsub.googleapis.com/subscription/{name}, "
        "through the Prometheus stackdriver_exporter (deploy/README.md, Monitoring)"
    )
    for name in ("num_undelivered_messages", "oldest_unacked_message_age")
}
_PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, aggregations,
    keywords, label names (inside ``{}`` or ``by``/``without``/``on``/``ignoring``) or numbers."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\b\d[\w.]*", " ", text)  # numbers and durations (0.5, 1e-3, 1h)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group().lower() in _PROMQL_KEYWORDS:
            continue
        names.add(match.group())
    return names


def _rules() -> list[dict[str, Any]]:
    import yaml

    doc = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    assert doc["kind"] == "PrometheusRule"
    return [rule for group in doc["spec"]["groups"] for rule in group["rules"]]


def _app_metric_names() -> set[str]:
    from prometheus_client.parser import text_string_to_metric_families

    from vividly_ray.observability.metrics import ServiceSnapshot, render_metrics

    body, _ = render_metrics(
        ServiceSnapshot(
            requests_by_status={"completed": 3, "failed": 1},
            queue_depth=2,
            active_pipelines=1,
            webhook_attempts={"delivered": 4, "failed": 1},
            stage_seconds=[("generating_video", 12.0)],
            oldest_pending_age_s=5.0,
        )
    )
    return {
        sample.name
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def _ray_metric_names() -> set[str]:
    """The ray_* names Ray's own Grafana dashboards query (installed with the pinned Ray)."""
    import ray

    panels = Path(ray.__file__).parent / "dashboard" / "modules" / "metrics" / "dashboards"
    text = " ".join(p.read_text() for p in panels.glob("*_panels.py"))
    return set(re.findall(r"\bray_[a-z0-9_]+", text))


def test_the_metric_extractor_finds_names_and_nothing_else() -> None:
    expr = (
        'sum by (stage) (rate(vividly_made_up_total{outcome="x y", le="1e3"}[5m] offset 1h))'
        " / clamp_min(max without (pod) (other:metric), 1e-3) > 0.5 and on (job) up"
    )
    assert metric_names(expr) == {"vividly_made_up_total", "other:metric", "up"}


def test_alert_rules_name_only_metrics_that_exist() -> None:
    app, ray_names = _app_metric_names(), _ray_metric_names()
    assert {"vividly_queue_depth", "vividly_stage_duration_seconds_bucket"} <= app
    used: set[str] = set()
    for rule in _rules():
        for name in metric_names(rule["expr"]):
            used.add(name)
            if name.startswith("vividly_"):
                assert name in app, (rule["alert"], name)
            elif name.startswith("ray_"):
                assert name in ray_names, (rule["alert"], name)
            else:
                assert name in EXTERNAL_METRICS, (rule["alert"], name)
    # Every kind of source is really used, and no external exception is stale.
    assert used & app and used & ray_names
    assert set(EXTERNAL_METRICS) <= used


def test_alert_rules_are_well_formed_and_documented() -> None:
    rules = _rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    slos = (MONITORING / "SLOs.md").read_text()
    runbook = (ROOT / "deploy" / "README.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("#")
    }
    for rule in rules:
        expr = rule["expr"]
        for left, right in ("()", "[]", "{}"):
            assert expr.count(left) == expr.count(right), rule["alert"]
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert re.fullmatch(r"\d+[smh]", str(rule["for"])), rule["alert"]
        assert rule["alert"] in slos, f"{rule['alert']} protects no SLO in SLOs.md"
        link = rule["annotations"].get("runbook")
        if link:
            path, _, anchor = link.partition("#")
            assert path == "deploy/README.md" and anchor in anchors, link


def test_pod_monitors_scrape_ports_and_labels_the_pods_have() -> None:
    import yaml

    cluster = yaml.safe_load((ROOT / "cluster.yaml").read_text())["spec"]["rayClusterConfig"]
    templates = [cluster["headGroupSpec"]["template"]] + [
        group["template"] for group in cluster["workerGroupSpecs"]
    ]
    monitors = list(yaml.safe_load_all((MONITORING / "podmonitors.yaml").read_text()))
    assert {m["kind"] for m in monitors} == {"PodMonitor"}
    http_api = (ROOT / "vividly_ray" / "service" / "http_api.py").read_text()
    for monitor in monitors:
        labels = monitor["spec"]["selector"]["matchLabels"]
        ours = {k: v for k, v in labels.items() if not k.startswith("ray.io/")}  # KubeRay's own
        assert ours, monitor["metadata"]["name"]
        matching = [t for t in templates if ours.items() <= t["metadata"]["labels"].items()]
        assert matching, monitor["metadata"]["name"]
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            for template in matching:
                ports = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
                assert endpoint["port"] in ports, (monitor["metadata"]["name"], endpoint["port"])
            path = endpoint.get("path", "/metrics")
            if endpoint["port"] == "serve":
                assert f'@app.get("{path}"' in http_api


# -- terraform ------------------------------------------------------------------------------------

TERRAFORM = ROOT / "deploy" / "terraform"


@dataclass
class Block:
    """One HCL block: ``type "label" ... { attributes; blocks }``; attribute values are raw."""

    type: str
    labels: list[str]
    attributes: dict[str, str] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, kind: str) -> list[Block]:
        return [block for block in self.blocks if block.type == kind]


def _hcl_tokens(text: str) -> list[str]:
    """Tokens of an HCL file: strings (with their quotes), words, punctuation and newlines;
    comments dropped. Heredocs are not supported (none is used here)."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            tokens.append("\n")
            i += 1
        elif ch in " \t\r":
            i += 1
        elif ch == "#" or text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            end = text.find("*/", i)
            assert end != -1, "unterminated /* comment"
            i = end + 2
        elif text.startswith("<<", i):
            raise AssertionError("heredocs are not supported by this check")
        elif ch == '"':
            j, depth = i + 1, 0
            while j < len(text) and not (text[j] == '"' and depth == 0):
                if text[j] == "\\":
                    j += 1
                elif text.startswith("${", j):
                    depth += 1
                    j += 1
                elif text[j] == "}" and depth:
                    depth -= 1
                elif text[j] == "\n":
                    raise AssertionError(f"unterminated string at {text[i:j]!r}")
                j += 1
            tokens.append(text[i : j + 1])
            i = j + 1
        elif re.match(r"[A-Za-z0-9_.\-]", ch):
            word = re.match(r"[A-Za-z0-9_.\-]+", text[i:])
            assert word is not None
            tokens.append(word.group())
            i += len(word.group())
        else:
            tokens.append(ch)
            i += 1
    return tokens


def parse_hcl(text: str) -> list[Block]:
    """Blocks and attributes with balanced braces; raises AssertionError on anything else."""
    tokens = _hcl_tokens(text)
    pos = 0

    def body(closing: str | None) -> tuple[dict[str, str], list[Block]]:
        nonlocal pos
        attributes: dict[str, str] = {}
        blocks: list[Block] = []
        while True:
            while pos < len(tokens) and tokens[pos] == "\n":
                pos += 1
            if pos == len(tokens):
                assert closing is None, "unbalanced braces: a block is not closed"
                return attributes, blocks
            if tokens[pos] == "}":
                assert closing == "}", "unbalanced braces: '}' without a block"
                pos += 1
                return attributes, blocks
            name = tokens[pos]
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", name), f"unexpected {name!r}"
            pos += 1
            if tokens[pos] == "=":
                pos += 1
                start, depth = pos, 0
                while pos < len(tokens):
                    token = tokens[pos]
                    if token in "([{":
                        depth += 1
                    elif token in ")]}":
                        if depth == 0:
                            break
                        depth -= 1
                    elif token == "\n" and depth == 0:
                        break
                    pos += 1
                assert depth == 0, f"unbalanced brackets in {name}"
                assert name not in attributes, f"{name} set twice"
                attributes[name] = " ".join(t for t in tokens[start:pos] if t != "\n")
            else:
                labels: list[str] = []
                while tokens[pos] != "{":
                    assert tokens[pos].startswith('"'), f"bad block header at {name}"
                    labels.append(tokens[pos].strip('"'))
                    pos += 1
                pos += 1
                inner_attributes, inner_blocks = body("}")
                blocks.append(Block(name, labels, inner_attributes, inner_blocks))

    _, blocks = body(None)
    return blocks


def _terraform() -> list[Block]:
    files = sorted(TERRAFORM.glob("*.tf"))
    assert files
    return [block for path in files for block in parse_hcl(path.read_text())]


def _resource(blocks: list[Block], kind: str, name: str) -> Block:
    found = [b for b in blocks if b.type == "resource" and b.labels == [kind, name]]
    assert found, f"no resource {kind}.{name}"
    return found[0]


def _text(block: Block) -> str:
    parts = list(block.attributes.values())
    parts += [_text(child) for child in block.blocks]
    return " ".join(parts)


def test_the_hcl_check_refuses_broken_files() -> None:
    with pytest.raises(AssertionError, match="not closed"):
        parse_hcl('resource "a" "b" {\n  x = 1\n')
    with pytest.raises(AssertionError, match="without a block"):
        parse_hcl("x = 1\n}\n")
    with pytest.raises(AssertionError, match="unterminated"):
        parse_hcl('x = "open\n')
    (block,) = parse_hcl(
        'resource "t" "n" {\n  a = "${var.x}-y" # c\n  inner {\n b = [1, 2]\n }\n}\n'
    )
    assert block.labels == ["t", "n"] and block.attributes == {"a": '"${var.x}-y"'}
    assert block.children("inner")[0].attributes == {"b": "[ 1 , 2 ]"}


def test_terraform_files_parse_and_every_reference_is_declared() -> None:
    try:
        import hcl2  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        hcl2 = None
    if hcl2 is not None:
        for path in TERRAFORM.glob("*.tf"):
            hcl2.loads(path.read_text())
    blocks = _terraform()
    declared_resources = {tuple(b.labels) for b in blocks if b.type == "resource"}
    declared_data = {tuple(b.labels) for b in blocks if b.type == "data"}
    variables = {b.labels[0] for b in blocks if b.type == "variable"}
    locals_ = {name for b in blocks if b.type == "locals" for name in b.attributes}
    code = " ".join(_text(b) for b in blocks)
    data_refs = set(re.findall(r"\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)", code))
    resource_refs = set(re.findall(r"(?<!data\.)\b(google_[a-z0-9_]+)\.([a-z0-9_]+)", code))
    assert data_refs <= declared_data, data_refs - declared_data
    assert resource_refs <= declared_resources, resource_refs - declared_resources
    assert set(re.findall(r"\bvar\.([a-z0-9_]+)", code)) == variables
    assert set(re.findall(r"\blocal\.([a-z0-9_]+)", code)) == locals_


def test_terraform_fmt_accepts_the_files() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed: `terraform fmt -check` was not run")
    done = subprocess.run(
        [terraform, "fmt", "-check", "-diff", "-no-color", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _defaults(blocks: list[Block]) -> dict[str, str]:
    values = {"project_id": "PROJECT_ID"}  # the placeholder the manifests use
    for block in blocks:
        if block.type == "variable" and "default" in block.attributes:
            values[block.labels[0]] = block.attributes["default"].strip('"')
    return values


def _evaluate(raw: str, values: dict[str, str]) -> str:
    assert raw.startswith('"'), raw
    return re.sub(r"\$\{var\.([a-z0-9_]+)\}", lambda m: values[m.group(1)], raw.strip('"'))


def test_terraform_creates_the_names_the_configmap_uses() -> None:
    import yaml

    blocks = _terraform()
    values = _defaults(blocks)
    config = yaml.safe_load((ROOT / "deploy" / "k8s" / "configmap.yaml").read_text())["data"]

    def name(kind: str, resource: str, attribute: str = "name") -> str:
        return _evaluate(_resource(blocks, kind, resource).attributes[attribute], values)

    assert name("google_pubsub_subscription", "requests") == config["PUBSUB_SUBSCRIPTION"]
    assert name("google_pubsub_topic", "results") == config["PUBSUB_RESULTS_TOPIC"]
    assert (
        name("google_storage_bucket", "generated_content") == config["GCS_GENERATED_CONTENT_BUCKET"]
    )
    assert name("google_storage_bucket", "oer_content") == config["GCS_OER_CONTENT_BUCKET"]
    assert name("google_storage_bucket", "temp_files") == config["GCS_TEMP_FILES_BUCKET"]
    account = name("google_service_account", "workload", "account_id")
    email = f"{account}@PROJECT_ID.iam.gserviceaccount.com"
    assert config["VIVIDLY_GCS_SIGNER_EMAIL"] == email
    service_account = yaml.safe_load((ROOT / "deploy" / "k8s" / "serviceaccount.yaml").read_text())
    assert service_account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == email
    binding = _resource(blocks, "google_service_account_iam_member", "workload_identity")
    member = _evaluate(binding.attributes["member"], values)
    namespace, ksa = service_account["metadata"]["namespace"], service_account["metadata"]["name"]
    assert member == f"serviceAccount:PROJECT_ID.svc.id.goog[{namespace}/{ksa}]"
    # The dead-letter alert watches the dead-letter subscription by this name.
    rules = (MONITORING / "prometheusrule.yaml").read_text()
    assert f'subscription_id="{name("google_pubsub_subscription", "dead_letter")}"' in rules


def test_the_subscription_dead_letters_and_the_service_agent_may_do_it() -> None:
    blocks = _terraform()
    values = _defaults(blocks)
    subscription = _resource(blocks, "google_pubsub_subscription", "requests")
    (policy,) = subscription.children("dead_letter_policy")
    assert policy.attributes["dead_letter_topic"] == "google_pubsub_topic.dead_letter.id"
    attempts = policy.attributes["max_delivery_attempts"]
    assert (
        5 <= int(values[attempts.removeprefix("var.")] if "var." in attempts else attempts) <= 100
    )
    assert "ack_deadline_seconds" in subscription.attributes
    # The database makes intake exactly-once; the subscription does not need to.
    assert subscription.attributes["enable_exactly_once_delivery"] == "false"
    dead_letter_sub = _resource(blocks, "google_pubsub_subscription", "dead_letter")
    assert dead_letter_sub.attributes["topic"] == "google_pubsub_topic.dead_letter.id"
    agent = _resource(blocks, "google_pubsub_topic_iam_member", "dead_letter_publisher")
    assert agent.attributes["topic"] == "google_pubsub_topic.dead_letter.id"
    assert agent.attributes["role"] == '"roles/pubsub.publisher"'
    source = _resource(
        blocks, "google_pubsub_subscription_iam_member", "dead_letter_source_subscriber"
    )
    assert source.attributes["subscription"] == "google_pubsub_subscription.requests.id"
    assert source.attributes["role"] == '"roles/pubsub.subscriber"'
    for binding in (agent, source):
        local = binding.attributes["member"].removeprefix("local.")
        (locals_,) = [b for b in blocks if b.type == "locals" and local in b.attributes]
        assert "@gcp-sa-pubsub.iam.gserviceaccount.com" in locals_.attributes[local]


def test_temporary_files_expire_metadata_first() -> None:
    blocks = _terraform()
    values = _defaults(blocks)
    bucket = _resource(blocks, "google_storage_bucket", "temp_files")
    ages: dict[str, int] = {}
    for rule in bucket.children("lifecycle_rule"):
        (action,) = rule.children("action")
        assert action.attributes["type"] == '"Delete"'
        (condition,) = rule.children("condition")
        age = condition.attributes["age"].replace("var.temp_files_retention_days", "")
        days = int(values["temp_files_retention_days"]) + int(age.replace("+", "") or 0)
        ages[condition.attributes.get("matches_prefix", "everything")] = days
    metadata = ages.pop('[ "cache/audio-timings/" , "cache/segment-meta/" ]')
    assert metadata < ages["everything"] <= 7


def test_the_workload_gets_the_roles_the_service_uses() -> None:
    blocks = _terraform()
    granted = {
        b.attributes["role"].strip('"')
        for b in blocks
        if b.type == "resource"
        and b.labels[0].endswith("_iam_member")
        and b.attributes.get("member") == "local.workload"
    }
    assert granted >= {
        "roles/storage.objectAdmin",
        "roles/storage.objectViewer",
        "roles/pubsub.subscriber",
        "roles/pubsub.publisher",
        "roles/cloudsql.client",
        "roles/aiplatform.user",
        "roles/iam.serviceAccountTokenCreator",
    }
    sign = _resource(blocks, "google_service_account_iam_member", "sign_as_self")
    assert sign.attributes["service_account_id"] == "google_service_account.workload.name"
    services = next(b for b in blocks if b.type == "locals" and "services" in b.attributes)
    for api in ("texttospeech", "aiplatform", "pubsub", "sqladmin", "iamcredentials"):
        assert f'"{api}.googleapis.com"' in services.attributes["services"], api
