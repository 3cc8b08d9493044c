#!/usr/bin/env python3
"""Validates the SpinKube manifests in deploy/spinkube/ against their schemas and spin.toml.

    python deploy/validate.py              # exit 0 and a one-line summary, or 1 and the failures
    python deploy/validate.py --self-test  # breaks copies of the manifests; each must be caught
                                           # (--verbose: show the error each one got)

Every YAML document under deploy/spinkube/ (secret.example.yaml included) is checked:

* SpinApp and SpinAppExecutor against deploy/schemas/*.schema.json (JSON Schema 2020-12, with the
  `jsonschema` package): transcriptions of spin-operator's CRDs, closed where the CRDs prune
  unknown fields, so an unknown or misspelt spec field fails;
* Kubernetes kinds (Job, CronJob, Secret) against the Kubernetes OpenAPI schemas shipped by the
  `kubernetes-validate` package, in strict mode (unknown fields fail), for KUBERNETES_VERSION;
  plus what those schemas do not say: a Job's restartPolicy, images with a tag, the CronJob's
  schedule, Secret keys;
* the Kustomization: its resources exist, every manifest is listed, the Secret template is not;
* consistency with spin.toml (read with tomllib): every component runs in exactly one SpinApp,
  HTTP components only in spincart-http, each saga shard's components in one SpinApp that runs
  one replica, variables exist in spin.toml's [variables] and are read by the app's components,
  required ones are set everywhere, saga_shards equals spin.toml's default on every SpinApp,
  *_host values match the Secret template's URLs, Secret references point at existing keys, and
  the sweep CronJob calls the Service of the SpinApp that serves the maintenance route;
* the Grafana dashboard (deploy/grafana/spincart-dashboard.json): valid JSON, every metric its
  queries name is declared (the family table of crates/spincart-platform/src/metrics.rs, the
  gauges of crates/spincart-operations/src/metrics.rs), and every family has a panel.

Needs Python >= 3.11 (tomllib), PyYAML, jsonschema and kubernetes-validate (pinned versions: see
DEPLOY_PY_PACKAGES in scripts/test.sh, which installs them into target/venv).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

if sys.version_info < (3, 11):
    sys.exit("deploy/validate.py: needs Python >= 3.11 (tomllib)")

import tomllib  # noqa: E402

try:
    import jsonschema  # noqa: E402
    import kubernetes_validate  # noqa: E402
    import yaml  # noqa: E402
except ImportError as e:  # pragma: no cover - a setup problem, said plainly
    sys.exit(f"deploy/validate.py: missing Python package ({e.name}); scripts/test.sh installs it (DEPLOY_PY_PACKAGES) into target/venv")

ROOT = Path(__file__).resolve().parent.parent
SPINKUBE_DIR = ROOT / "deploy" / "spinkube"
SCHEMAS_DIR = ROOT / "deploy" / "schemas"
SPIN_TOML = ROOT / "spin.toml"

KUBERNETES_VERSION = "1.34"
SECRET_TEMPLATE = "secret.example.yaml"
KUSTOMIZATION = "kustomization.yaml"
HTTP_APP = "spincart-http"
SPINKUBE_API = "core.spinkube.dev/v1alpha1"
SCHEMA_FILES = {
    "SpinApp": "spinapp.schema.json",
    "SpinAppExecutor": "spinappexecutor.schema.json",
}
KUBERNETES_KINDS = {"Job", "CronJob", "Secret"}
# The operator's Service for a SpinApp: named like the app, port 80 (pkg/spinapp DefaultHTTPPort).
SPINAPP_SERVICE_PORT = 80
TEMPLATE_REF = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


# --- YAML ----------------------------------------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key != "<<" and key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class Doc:
    file: str
    index: int
    body: dict

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "?"))

    @property
    def name(self) -> str:
        meta = self.body.get("metadata")
        return str(meta.get("name", "?")) if isinstance(meta, dict) else "?"

    @property
    def label(self) -> str:
        if self.kind == "Kustomization":
            return f"{self.file}[{self.index}] Kustomization"
        return f"{self.file}[{self.index}] {self.kind}/{self.name}"


# --- spin.toml -----------------------------------------------------------------------------------


@dataclass
class SpinManifest:
    components: dict[str, dict]
    http: list[str]
    redis: list[str]
    shard_of: dict[str, int]
    routes: dict[str, str]
    variables: dict[str, dict]
    saga_shards: int
    uses: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "SpinManifest":
        with open(path, "rb") as f:
            manifest = tomllib.load(f)
        components = manifest.get("component", {})
        triggers = manifest.get("trigger", {})
        http, redis, routes, shard_of = [], [], {}, {}
        for t in triggers.get("http", []):
            http.append(t["component"])
            routes[t["component"]] = t["route"]
        for t in triggers.get("redis", []):
            redis.append(t["component"])
            m = re.search(r"\.(\d+)$", t.get("channel", ""))  # as scripts/components.sh shard K
            if m:
                shard_of[t["component"]] = int(m.group(1))
        variables = manifest.get("variables", {})
        saga_shards = int(variables["saga_shards"]["default"])
        spin = cls(components, http, redis, shard_of, routes, variables, saga_shards)
        # The variables each component reads: {{ name }} anywhere in its table (variables,
        # allowed_outbound_hosts) or in its triggers, and the app-level trigger settings.
        app_trigger = manifest.get("application", {}).get("trigger", {})
        for cid, table in components.items():
            refs = set(TEMPLATE_REF.findall(json.dumps(table)))
            for kind, tlist in triggers.items():
                for t in tlist:
                    if t.get("component") == cid:
                        refs |= set(TEMPLATE_REF.findall(json.dumps(t)))
                        refs |= set(TEMPLATE_REF.findall(json.dumps(app_trigger.get(kind, {}))))
            spin.uses[cid] = refs
        return spin

    def problems(self) -> list[str]:
        out = []
        for cid in self.http + self.redis:
            if cid not in self.components:
                out.append(f"spin.toml: a trigger names component {cid}, which has no [component.{cid}]")
        shards = set(self.shard_of.values())
        if shards != set(range(self.saga_shards)):
            out.append(f"spin.toml: saga_shards default is {self.saga_shards} but the shard "
                       f"components cover shards {sorted(shards)} (scripts/saga-shards.sh N renders both)")
        return out

    def required_without_default(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.get("required") and "default" not in v]

    def loopback_defaults(self) -> list[str]:
        return [n for n, v in self.variables.items()
                if re.search(r"127\.0\.0\.1|localhost", str(v.get("default", "")))]


# --- checks of single documents ------------------------------------------------------------------

CRON_FIELDS = [  # name, low, high, names
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(
        "jan feb mar apr may jun jul aug sep oct nov dec".split())}),
    ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
]
CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def cron_problems(schedule: Any) -> list[str]:
    if not isinstance(schedule, str):
        return [f"schedule must be a string, not {type(schedule).__name__}"]
    if schedule.strip() in CRON_MACROS:
        return []
    fields = schedule.split()
    if fields and (fields[0].startswith("TZ=") or fields[0].startswith("CRON_TZ=")):
        return ["schedule: use spec.timeZone, not TZ= in the schedule (rejected since Kubernetes 1.27)"]
    if len(fields) != 5:
        return [f"schedule {schedule!r} has {len(fields)} fields; a cron schedule has 5 "
                "(minute hour day-of-month month day-of-week)"]
    out = []
    for text, (name, low, high, names) in zip(fields, CRON_FIELDS):
        for item in text.split(","):
            m = re.fullmatch(r"(\*|\?|[0-9a-zA-Z]+(?:-[0-9a-zA-Z]+)?)(?:/([0-9]+))?", item)
            if not m:
                out.append(f"schedule: {name} field {text!r} is not valid")
                continue
            if m.group(2) is not None and int(m.group(2)) == 0:
                out.append(f"schedule: {name} field {text!r} has a step of 0")
            if m.group(1) in ("*", "?"):
                continue
            for value in m.group(1).split("-"):
                number = names.get(value.lower()) if not value.isdigit() else int(value)
                if number is None or not low <= number <= high:
                    out.append(f"schedule: {name} value {value!r} is outside {low}-{high}")
    return out


def pod_spec_of(doc: Doc) -> dict | None:
    spec = doc.body.get("spec") or {}
    if doc.kind == "Job":
        return ((spec.get("template") or {}).get("spec")) or {}
    if doc.kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        return ((job.get("template") or {}).get("spec")) or {}
    return None


def workload_problems(doc: Doc) -> list[str]:
    out = []
    pod = pod_spec_of(doc)
    if pod is None:
        return out
    policy = pod.get("restartPolicy")
    if policy not in ("Never", "OnFailure"):
        out.append(f"{doc.label}: the pod's restartPolicy must be Never or OnFailure for a Job "
                   f"(got {policy!r})")
    containers = list(pod.get("containers") or []) + list(pod.get("initContainers") or [])
    if not pod.get("containers"):
        out.append(f"{doc.label}: the pod has no containers")
    for c in containers:
        image = c.get("image")
        cname = c.get("name", "?")
        if not isinstance(image, str) or not image.strip():
            out.append(f"{doc.label}: container {cname} has no image")
            continue
        last = image.rsplit("/", 1)[-1]
        if "@" not in image and ":" not in last:
            out.append(f"{doc.label}: container {cname} image {image!r} has no tag (use a version)")
        elif last.endswith(":latest"):
            out.append(f"{doc.label}: container {cname} image {image!r} uses :latest (use a version)")
    if doc.kind == "CronJob":
        out += [f"{doc.label}: {p}" for p in cron_problems((doc.body.get("spec") or {}).get("schedule"))]
    return out


def secret_problems(doc: Doc) -> list[str]:
    out = []
    keys = list((doc.body.get("data") or {}).keys()) + list((doc.body.get("stringData") or {}).keys())
    if not keys:
        out.append(f"{doc.label}: the Secret has no data or stringData")
    for key in keys:
        if not re.fullmatch(r"[-._a-zA-Z0-9]{1,253}", str(key)):
            out.append(f"{doc.label}: Secret key {key!r} is not a valid key ([-._a-zA-Z0-9]+)")
    return out


KUSTOMIZATION_KEYS = {
    "apiVersion", "kind", "metadata", "resources", "namespace", "namePrefix", "nameSuffix",
    "labels", "commonLabels", "commonAnnotations", "images", "replicas", "patches",
    "configMapGenerator", "secretGenerator", "generatorOptions", "components", "replacements",
    "configurations", "buildMetadata", "openapi", "crds", "sortOptions",
}


def kustomization_problems(doc: Doc, directory: Path) -> list[str]:
    out = []
    body = doc.body
    if doc.file != KUSTOMIZATION:
        out.append(f"{doc.label}: a Kustomization belongs in {KUSTOMIZATION}")
    if body.get("apiVersion") != "kustomize.config.k8s.io/v1beta1":
        out.append(f"{doc.label}: apiVersion must be kustomize.config.k8s.io/v1beta1")
    for key in body:
        if key not in KUSTOMIZATION_KEYS:
            out.append(f"{doc.label}: unknown Kustomization field {key!r}")
    resources = body.get("resources")
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        return out + [f"{doc.label}: resources must be a list of file names"]
    for name, count in Counter(resources).items():
        if count > 1:
            out.append(f"{doc.label}: resource {name} is listed {count} times")
    for name in resources:
        if not (directory / name).is_file():
            out.append(f"{doc.label}: resource {name} does not exist in deploy/spinkube/")
    if SECRET_TEMPLATE in resources:
        out.append(f"{doc.label}: {SECRET_TEMPLATE} must not be a resource (placeholder credentials "
                   "would overwrite the real Secret on every apply)")
    for path in sorted(directory.glob("*.y*ml")):
        if path.name not in (KUSTOMIZATION, SECRET_TEMPLATE) and path.name not in resources:
            out.append(f"{doc.label}: {path.name} is not listed in resources")
    return out


# --- the whole tree ------------------------------------------------------------------------------


@dataclass
class Result:
    errors: list[str]
    docs: list[Doc]
    spin: SpinManifest | None


def load_docs(directory: Path) -> tuple[list[Doc], list[str]]:
    docs, errors = [], []
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    if not files:
        errors.append(f"no YAML files in {directory}")
    for path in files:
        try:
            bodies = list(yaml.load_all(path.read_text(), Loader=StrictLoader))
        except yaml.YAMLError as e:
            errors.append(f"{path.name}: not valid YAML: {' '.join(str(e).split())}")
            continue
        for i, body in enumerate(bodies):
            if body is None:
                continue
            if not isinstance(body, dict):
                errors.append(f"{path.name}[{i}]: a document must be a mapping")
                continue
            docs.append(Doc(path.name, i, body))
    return docs, errors


def load_schemas(schemas_dir: Path) -> tuple[dict[str, Any], list[str]]:
    schemas, errors = {}, []
    for kind, name in SCHEMA_FILES.items():
        try:
            schema = json.loads((schemas_dir / name).read_text())
            jsonschema.Draft202012Validator.check_schema(schema)
        except (OSError, ValueError, jsonschema.SchemaError) as e:
            errors.append(f"deploy/schemas/{name}: {e}")
            continue
        if not re.search(r"\b[0-9a-f]{40}\b", schema.get("description", "")):
            errors.append(f"deploy/schemas/{name}: description must name the operator commit it "
                          "was transcribed from")
        schemas[kind] = jsonschema.Draft202012Validator(schema)
    return schemas, errors


def validate(directory: Path = SPINKUBE_DIR, spin_toml: Path = SPIN_TOML,
             schemas_dir: Path = SCHEMAS_DIR, k8s_version: str = KUBERNETES_VERSION) -> Result:
    errors: list[str] = []
    try:
        spin = SpinManifest.load(spin_toml)
    except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as e:
        return Result([f"spin.toml: cannot read it: {e!r}"], [], None)
    errors += spin.problems()
    schemas, schema_errors = load_schemas(schemas_dir)
    errors += schema_errors
    docs, load_errors = load_docs(directory)
    errors += load_errors

    # One document at a time.
    for doc in docs:
        body = doc.body
        if doc.kind == "Kustomization":
            errors += kustomization_problems(doc, directory)
            continue
        if not isinstance(body.get("metadata"), dict) or not body["metadata"].get("name"):
            errors.append(f"{doc.label}: metadata.name is missing")
        if doc.kind in SCHEMA_FILES:
            if body.get("apiVersion") != SPINKUBE_API:
                errors.append(f"{doc.label}: apiVersion must be {SPINKUBE_API}")
            validator = schemas.get(doc.kind)
            if validator is None:
                continue
            for e in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path))):
                where = ".".join(str(p) for p in e.absolute_path) or "<document>"
                rule = e.schema.get("description", "") if isinstance(e.schema, dict) else ""
                note = f" ({rule})" if rule.startswith("operator webhook") else ""
                errors.append(f"{doc.label}: schema: {where}: {e.message}{note}")
        elif doc.kind in KUBERNETES_KINDS:
            try:
                kubernetes_validate.validate(body, k8s_version, strict=True)
            except kubernetes_validate.ValidationError as e:
                where = ".".join(str(p) for p in e.path) or "<document>"
                errors.append(f"{doc.label}: Kubernetes {e.version} schema (strict): {where}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                errors.append(f"{doc.label}: {e.message}")
            except kubernetes_validate.VersionNotSupportedError as e:
                errors.append(f"kubernetes-validate cannot validate Kubernetes {e.version}")
            except (KeyError, TypeError, AttributeError) as e:
                errors.append(f"{doc.label}: cannot be validated (apiVersion or kind missing?): {e!r}")
            if doc.kind == "Secret":
                errors += secret_problems(doc)
            else:
                errors += workload_problems(doc)
        else:
            errors.append(f"{doc.label}: no validator for kind {doc.kind!r} "
                          f"(known: {sorted(set(SCHEMA_FILES) | KUBERNETES_KINDS | {'Kustomization'})})")

    for (kind, name), count in Counter((d.kind, d.name) for d in docs).items():
        if count > 1:
            errors.append(f"{kind}/{name} is defined {count} times")
    if sum(d.kind == "Kustomization" for d in docs) != 1:
        errors.append(f"there must be exactly one Kustomization ({KUSTOMIZATION})")

    errors += consistency_problems(docs, spin)
    return Result(errors, docs, spin)


def decode_base64(value: Any) -> str | None:
    try:
        return base64.b64decode(str(value), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def consistency_problems(docs: list[Doc], spin: SpinManifest) -> list[str]:
    out: list[str] = []
    apps = [d for d in docs if d.kind == "SpinApp"]
    if not apps:
        return ["no SpinApp in deploy/spinkube/"]
    secrets = [d for d in docs if d.kind == "Secret"]
    secret = next((d for d in secrets if d.file == SECRET_TEMPLATE), None)
    if secret is None:
        out.append(f"{SECRET_TEMPLATE}: the Secret template is missing")
        secret_values: dict[str, str] = {}
        secret_name = None
    else:
        secret_values = {key: decode_base64(value)
                         for key, value in (secret.body.get("data") or {}).items()}
        secret_values.update(secret.body.get("stringData") or {})
        secret_name = secret.name

    def check_secret_ref(label: str, ref: Any) -> str | None:
        if not isinstance(ref, dict):
            return None
        if ref.get("name") != secret_name:
            out.append(f"{label}: secretKeyRef names Secret {ref.get('name')!r}; the template "
                       f"({SECRET_TEMPLATE}) is {secret_name!r}")
        elif ref.get("key") not in secret_values:
            out.append(f"{label}: secretKeyRef: the Secret template has no key {ref.get('key')!r} "
                       f"(it has {sorted(secret_values)})")
        return ref.get("key")

    # Components: each of spin.toml's in exactly one SpinApp, the right ones together.
    placed: dict[str, list[str]] = defaultdict(list)
    for app in apps:
        spec = app.body.get("spec") or {}
        components = spec.get("components")
        if not components:
            out.append(f"{app.label}: no components: the app would run every component of spin.toml")
            continue
        for cid, count in Counter(components).items():
            if count > 1:
                out.append(f"{app.label}: component {cid} is listed {count} times")
        for cid in dict.fromkeys(components):
            if cid not in spin.components:
                out.append(f"{app.label}: component {cid} is not in spin.toml")
            placed[cid].append(app.name)
    for cid in spin.components:
        where = placed.get(cid, [])
        if not where:
            out.append(f"component {cid} of spin.toml is in no SpinApp: it would never run")
        elif len(where) > 1:
            out.append(f"component {cid} is in more than one SpinApp: {', '.join(where)}")
    app_names = {a.name for a in apps}
    if HTTP_APP not in app_names:
        out.append(f"there is no SpinApp {HTTP_APP} (the API)")
    for cid in spin.http:
        for name in placed.get(cid, []):
            if name != HTTP_APP:
                out.append(f"HTTP component {cid} is in SpinApp {name}: HTTP components belong in "
                           f"{HTTP_APP} only")
    for cid in spin.redis:
        if HTTP_APP in placed.get(cid, []):
            out.append(f"Redis-triggered component {cid} is in {HTTP_APP}: a Redis outage would stop "
                       "the API with it (Spin's Redis trigger exits when Redis drops)")
    by_shard: dict[int, set[str]] = defaultdict(set)
    for cid, shard in spin.shard_of.items():
        by_shard[shard] |= set(placed.get(cid, []))
    for shard, holders in sorted(by_shard.items()):
        if len(holders) > 1:
            out.append(f"saga shard {shard} is split over SpinApps {', '.join(sorted(holders))}: a "
                       "shard's components must all run in one SpinApp")
    for app in apps:
        spec = app.body.get("spec") or {}
        consumers = [c for c in spec.get("components") or [] if c in spin.redis]
        if consumers and (spec.get("enableAutoscaling") or spec.get("replicas") != 1):
            out.append(f"{app.label}: runs Redis consumers ({consumers[0]}…), so replicas must be 1 "
                       f"and autoscaling off (got replicas={spec.get('replicas')!r}, "
                       f"enableAutoscaling={spec.get('enableAutoscaling', False)!r}): every replica "
                       "would take every message")

    # Same build, same executor (shipped here).
    images = {(a.body.get("spec") or {}).get("image") for a in apps}
    if len(images) > 1:
        out.append(f"the SpinApps name different images {sorted(map(str, images))}: they must run the "
                   "same build (the same spin.toml)")
    executors = {d.name for d in docs if d.kind == "SpinAppExecutor"}
    for app in apps:
        executor = (app.body.get("spec") or {}).get("executor")
        if executor not in executors:
            out.append(f"{app.label}: executor {executor!r} is not defined here (executors are "
                       f"namespaced; defined: {sorted(executors)})")

    # Variables.
    required = spin.required_without_default()
    key_of_variable: dict[str, dict[str, str]] = defaultdict(dict)
    for app in apps:
        spec = app.body.get("spec") or {}
        variables = spec.get("variables") or []
        names = [v.get("name") for v in variables if isinstance(v, dict)]
        for name, count in Counter(names).items():
            if count > 1:
                out.append(f"{app.label}: variable {name} is set {count} times")
        used = set().union(*(spin.uses.get(c, set()) for c in spec.get("components") or []))
        values: dict[str, Any] = {}
        for v in variables:
            if not isinstance(v, dict):
                continue
            name = v.get("name")
            label = f"{app.label}: variable {name}"
            if name not in spin.variables:
                out.append(f"{label} is not a variable of spin.toml's [variables]")
                continue
            if ("value" in v) == ("valueFrom" in v):
                out.append(f"{label}: set exactly one of value and valueFrom")
            if name not in used and name not in required:
                out.append(f"{label}: none of the app's components reads it")
            if "valueFrom" in v:
                source = v["valueFrom"] or {}
                key = check_secret_ref(label, source.get("secretKeyRef"))
                if key:
                    key_of_variable[name][app.name] = key
                    values[name] = secret_values.get(key)
            else:
                values[name] = v.get("value")
        for name in required:
            if name not in names:
                out.append(f"{app.label}: required variable {name} (no default in spin.toml) is not set")
        for name in spin.loopback_defaults():
            if name in used and name not in names:
                out.append(f"{app.label}: variable {name} is read by its components and its default "
                           f"({spin.variables[name].get('default')}) is the local development server")
        if "saga_shards" in used and values.get("saga_shards") != str(spin.saga_shards):
            out.append(f"{app.label}: saga_shards must be set to {str(spin.saga_shards)!r}, spin.toml's "
                       f"default and the number of shard components in the image "
                       f"(got {values.get('saga_shards')!r})")
        for url_var, host_var, default_port in (("db_url", "db_host", 5432),
                                                ("redis_url", "redis_host", 6379)):
            url, host = values.get(url_var), values.get(host_var)
            if isinstance(url, str) and isinstance(host, str):
                parts = urlsplit(url)
                expected = f"{parts.hostname}:{parts.port or default_port}"
                if host != expected:
                    out.append(f"{app.label}: {host_var} is {host!r} but {url_var} (Secret template) "
                               f"points at {expected!r}: allowed_outbound_hosts would deny it")
                if parts.fragment:
                    out.append(f"{app.label}: {url_var} must not carry a #fragment (spin.toml adds one)")
    for name, by_app in key_of_variable.items():
        if len(set(by_app.values())) > 1:
            out.append(f"variable {name} comes from different Secret keys: {by_app}")

    # Jobs: Secret references, the migration's database, the sweep's target.
    for doc in docs:
        pod = pod_spec_of(doc)
        if not pod:
            continue
        for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            for env in c.get("env") or []:
                key = check_secret_ref(f"{doc.label}: env {env.get('name')}",
                                       (env.get("valueFrom") or {}).get("secretKeyRef"))
                if env.get("name") == "SPIN_VARIABLE_DB_URL" and key:
                    for app_name, app_key in key_of_variable.get("db_url", {}).items():
                        if app_key != key:
                            out.append(f"{doc.label}: migrates the database in Secret key {key!r}, "
                                       f"but {app_name} uses {app_key!r}")
    out += sweep_problems(docs, spin, apps, key_of_variable)
    return out


def sweep_problems(docs: list[Doc], spin: SpinManifest, apps: list[Doc],
                   key_of_variable: dict[str, dict[str, str]]) -> list[str]:
    out: list[str] = []
    maintenance = [cid for cid, route in spin.routes.items() if route == "/api/v1/admin/maintenance/run"]
    cronjobs = [d for d in docs if d.kind == "CronJob"]
    if not cronjobs:
        return ["no CronJob: nothing runs the sweep (POST /api/v1/admin/maintenance/run)"]
    for doc in cronjobs:
        pod = pod_spec_of(doc) or {}
        for c in pod.get("containers") or []:
            words = [str(w) for w in (c.get("command") or []) + (c.get("args") or [])]
            urls = [w for w in words if re.match(r"https?://", w)]
            if len(urls) != 1:
                out.append(f"{doc.label}: expected one http:// URL in the container's command/args, "
                           f"found {urls}")
                continue
            parts = urlsplit(urls[0])
            service = (parts.hostname or "").split(".")[0]
            app = next((a for a in apps if a.name == service), None)
            if app is None:
                out.append(f"{doc.label}: calls {urls[0]}, but the operator creates a Service per "
                           f"SpinApp, named like it, and there is no SpinApp {service!r}")
                continue
            if (parts.port or 80) != SPINAPP_SERVICE_PORT:
                out.append(f"{doc.label}: the SpinApp Service listens on port {SPINAPP_SERVICE_PORT}, "
                           f"not {parts.port}")
            served = [cid for cid, route in spin.routes.items() if route == parts.path]
            components = set((app.body.get("spec") or {}).get("components") or [])
            if not served:
                out.append(f"{doc.label}: no HTTP route {parts.path} in spin.toml")
            elif not set(served) & components:
                out.append(f"{doc.label}: {parts.path} is served by {served[0]}, which is not in {service}")
            if set(served) & set(maintenance):
                header = next((w for w in words if w.lower().startswith("x-maintenance-token:")), None)
                if header is None:
                    out.append(f"{doc.label}: the sweep needs an X-Maintenance-Token header")
                    continue
                ref = re.search(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", header)
                env = next((e for e in c.get("env") or [] if ref and e.get("name") == ref.group(1)), None)
                key = ((env or {}).get("valueFrom") or {}).get("secretKeyRef", {}).get("key")
                app_key = key_of_variable.get("maintenance_token", {}).get(service)
                if app_key is None:
                    out.append(f"{doc.label}: {service} does not set maintenance_token from the Secret, "
                               "so the sweep's token would be refused")
                elif key != app_key:
                    out.append(f"{doc.label}: X-Maintenance-Token comes from Secret key {key!r}, "
                               f"{service}'s maintenance_token from {app_key!r}")
    return out


def summary(result: Result, k8s_version: str) -> str:
    kinds = Counter(d.kind for d in result.docs)
    files = len({d.file for d in result.docs})
    spin = result.spin
    apps = [d for d in result.docs if d.kind == "SpinApp"]
    consumer_apps = [a.name for a in apps if a.name != HTTP_APP]
    return (f"deploy/validate.py: OK: {len(result.docs)} documents in {files} files "
            f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); SpinKube schemas and "
            f"Kubernetes {k8s_version} strict schemas pass; all {len(spin.components)} spin.toml "
            f"components placed once ({len(spin.http)} HTTP in {HTTP_APP}; {spin.saga_shards} saga "
            f"shards in {', '.join(consumer_apps)})")


# --- the Grafana dashboard ------------------------------------------------------------------------

DASHBOARD = ROOT / "deploy" / "grafana" / "spincart-dashboard.json"
# Where the metric names are declared: the platform's family table (counters, histograms) and
# the gauges of GET /metrics.
FAMILIES_RS = ROOT / "crates" / "spincart-platform" / "src" / "metrics.rs"
GAUGES_RS = ROOT / "crates" / "spincart-operations" / "src" / "metrics.rs"
FAMILY_RE = re.compile(r'Family\s*\{\s*name:\s*"(spincart_[a-z0-9_]+)",\s*kind:\s*Kind::(Counter|Histogram)')
METRIC_RE = re.compile(r"\bspincart_[a-z0-9_]+\b")


def declared_metrics(families_rs: Path = FAMILIES_RS,
                     gauges_rs: Path = GAUGES_RS) -> tuple[dict[str, str], set[str]]:
    """({family: "counter" | "histogram"} of the platform's table, {gauge names of /metrics})."""
    families = {name: kind.lower() for name, kind in FAMILY_RE.findall(families_rs.read_text())}
    gauges = set(re.findall(r'"(spincart_[a-z0-9_]+)"', gauges_rs.read_text())) - set(families)
    return families, gauges


def dashboard_queries(node: Any) -> list[str]:
    """Every `expr` of every panel (rows and nested panels included)."""
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in dashboard_queries(value)]
    if isinstance(node, list):
        return [e for value in node for e in dashboard_queries(value)]
    return []


def dashboard_problems(dashboard: Path = DASHBOARD, families_rs: Path = FAMILIES_RS,
                       gauges_rs: Path = GAUGES_RS) -> list[str]:
    """The dashboard is JSON, every metric its queries name is one /metrics serves, and every
    family of the platform's table has a panel."""
    label = dashboard.relative_to(ROOT) if dashboard.is_relative_to(ROOT) else dashboard
    try:
        board = json.loads(dashboard.read_text())
    except (OSError, json.JSONDecodeError) as e:
        return [f"{label}: not valid JSON: {e}"]
    families, gauges = declared_metrics(families_rs, gauges_rs)
    if not families:
        return [f"{families_rs}: no metric families found (has the FAMILIES table changed shape?)"]
    histograms = {n for n, k in families.items() if k == "histogram"}
    queries = dashboard_queries(board.get("panels"))
    if not queries:
        return [f"{label}: no panel has a query"]
    out, used = [], set()
    for query in queries:
        for name in METRIC_RE.findall(query):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name in families or name in gauges:
                used.add(name)
            elif base in histograms and base != name:
                used.add(base)
            else:
                out.append(f"{label}: the query {query!r} uses {name}, which GET /metrics does not "
                           f"serve (declared in {FAMILIES_RS.relative_to(ROOT)} or "
                           f"{GAUGES_RS.relative_to(ROOT)})")
    for name in sorted(set(families) - used):
        out.append(f"{label}: no panel shows {name} ({families[name]})")
    return out


# --- self-test -----------------------------------------------------------------------------------

Mutation = Callable[[dict[str, list[dict]]], None]


def app_in(files: dict[str, list[dict]], name: str) -> dict:
    for bodies in files.values():
        for body in bodies:
            if body.get("kind") == "SpinApp" and body["metadata"]["name"] == name:
                return body
    raise KeyError(name)


def variable(app: dict, name: str) -> dict:
    return next(v for v in app["spec"]["variables"] if v["name"] == name)


def container(files: dict[str, list[dict]], file: str) -> dict:
    body = files[file][0]
    pod = body["spec"]["template"]["spec"] if body["kind"] == "Job" else \
        body["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod["containers"][0]


def _move(files: dict, component: str, source: str, target: str) -> None:
    app_in(files, source)["spec"]["components"].remove(component)
    app_in(files, target)["spec"]["components"].append(component)


# (what is broken, how, a fragment of the error that must be reported)
MUTATIONS: list[tuple[str, Mutation, str]] = [
    ("unknown spec field in a SpinApp",
     lambda f: app_in(f, HTTP_APP)["spec"].update(replica=2),
     "Additional properties are not allowed ('replica' was unexpected)"),
    ("unknown field in SpinApp.spec.checks",
     lambda f: app_in(f, HTTP_APP)["spec"]["checks"]["readiness"].update(port=80),
     "spec.checks.readiness: Additional properties are not allowed"),
    ("a component missing from every SpinApp",
     lambda f: app_in(f, "spincart-consumers-b")["spec"]["components"].remove("on-restore-cart-requested-s3"),
     "component on-restore-cart-requested-s3 of spin.toml is in no SpinApp"),
    ("a component in two SpinApps",
     lambda f: app_in(f, "spincart-consumers-a")["spec"]["components"].append("on-checkout-requested-s2"),
     "component on-checkout-requested-s2 is in more than one SpinApp"),
    ("a shard split over two SpinApps",
     lambda f: _move(f, "on-inventory-reserved-s1", "spincart-consumers-a", "spincart-consumers-b"),
     "saga shard 1 is split over SpinApps"),
    ("an HTTP component in a consumer SpinApp",
     lambda f: _move(f, "cart-checkout", HTTP_APP, "spincart-consumers-a"),
     "HTTP component cart-checkout is in SpinApp spincart-consumers-a"),
    ("a consumer in the HTTP SpinApp",
     lambda f: _move(f, "on-product-changed", "spincart-consumers-a", HTTP_APP),
     "Redis-triggered component on-product-changed is in spincart-http"),
    ("a component that spin.toml does not have",
     lambda f: app_in(f, HTTP_APP)["spec"]["components"].append("cart-teleport"),
     "component cart-teleport is not in spin.toml"),
    ("a SpinApp without components",
     lambda f: app_in(f, "spincart-consumers-b")["spec"].pop("components"),
     "no components: the app would run every component"),
    ("two replicas of a shard group",
     lambda f: app_in(f, "spincart-consumers-b")["spec"].update(replicas=2),
     "so replicas must be 1"),
    ("replicas 0 (operator webhook)",
     lambda f: app_in(f, HTTP_APP)["spec"].update(replicas=0),
     "spec.replicas: 0 is less than the minimum of 1"),
    ("a variable spin.toml does not declare",
     lambda f: app_in(f, HTTP_APP)["spec"]["variables"].append({"name": "db_urll", "value": "x"}),
     "variable db_urll is not a variable of spin.toml"),
    ("a variable no component of the app reads",
     lambda f: app_in(f, "spincart-consumers-a")["spec"]["variables"].append(
         {"name": "maintenance_token", "value": "x"}),
     "variable maintenance_token: none of the app's components reads it"),
    ("the required jwt_secret missing",
     lambda f: app_in(f, "spincart-consumers-a")["spec"]["variables"].remove(
         variable(app_in(f, "spincart-consumers-a"), "jwt_secret")),
     "required variable jwt_secret (no default in spin.toml) is not set"),
    ("db_url left at its local default",
     lambda f: app_in(f, "spincart-consumers-b")["spec"]["variables"].remove(
         variable(app_in(f, "spincart-consumers-b"), "db_url")),
     "variable db_url is read by its components and its default"),
    ("saga_shards differing from spin.toml",
     lambda f: variable(app_in(f, "spincart-consumers-b"), "saga_shards").update(value="8"),
     "saga_shards must be set to '4'"),
    ("a variable value that is not a string",
     lambda f: variable(app_in(f, HTTP_APP), "saga_shards").update(value=4),
     "4 is not of type 'string'"),
    ("db_host not matching the Secret's db-url",
     lambda f: variable(app_in(f, HTTP_APP), "db_host").update(value="db:5432"),
     "db_host is 'db:5432' but db_url"),
    ("a Secret key that the template does not have",
     lambda f: variable(app_in(f, HTTP_APP), "jwt_secret")["valueFrom"]["secretKeyRef"].update(key="jwt"),
     "the Secret template has no key 'jwt'"),
    ("two SpinApps on different images",
     lambda f: app_in(f, "spincart-consumers-a")["spec"].update(image="ghcr.io/OWNER/spincart:0.0.9"),
     "the SpinApps name different images"),
    ("an executor that is not defined",
     lambda f: app_in(f, "spincart-consumers-a")["spec"].update(executor="wasmtime"),
     "executor 'wasmtime' is not defined here"),
    ("a SpinAppExecutor without createDeployment",
     lambda f: f["executor.yaml"][0]["spec"].pop("createDeployment"),
     "'createDeployment' is a required property"),
    ("unknown field in a Job container (strict Kubernetes schema)",
     lambda f: container(f, "migrate-job.yaml").update(imagePullPolicyy="Always"),
     "Additional properties are not allowed ('imagePullPolicyy' was unexpected)"),
    ("a Job pod with restartPolicy Always",
     lambda f: f["migrate-job.yaml"][0]["spec"]["template"]["spec"].update(restartPolicy="Always"),
     "restartPolicy must be Never or OnFailure"),
    ("a Job container without an image",
     lambda f: container(f, "migrate-job.yaml").pop("image"),
     "container migrate has no image"),
    ("the migration reading another Secret key than the apps' db_url",
     lambda f: container(f, "migrate-job.yaml")["env"][0]["valueFrom"]["secretKeyRef"].update(
         key="redis-url"),
     "migrates the database in Secret key 'redis-url'"),
    ("a CronJob schedule with 4 fields",
     lambda f: f["sweep-cronjob.yaml"][0]["spec"].update(schedule="* * * *"),
     "has 4 fields; a cron schedule has 5"),
    ("a CronJob schedule with an out-of-range minute",
     lambda f: f["sweep-cronjob.yaml"][0]["spec"].update(schedule="61 * * * *"),
     "minute value '61' is outside 0-59"),
    ("the sweep calling a Service no SpinApp creates",
     lambda f: container(f, "sweep-cronjob.yaml")["args"].__setitem__(
         -1, "http://spincart-api/api/v1/admin/maintenance/run"),
     "there is no SpinApp 'spincart-api'"),
    ("the sweep's token from another Secret key",
     lambda f: container(f, "sweep-cronjob.yaml")["env"][0]["valueFrom"]["secretKeyRef"].update(
         key="jwt-secret"),
     "X-Maintenance-Token comes from Secret key 'jwt-secret'"),
    ("a Secret with a field Kubernetes does not know",
     lambda f: f[SECRET_TEMPLATE][0].update(strinData={"a": "b"}),
     "'strinData' was unexpected"),
    ("the kustomization forgetting a manifest",
     lambda f: f[KUSTOMIZATION][0]["resources"].remove("spinapp-consumers-b.yaml"),
     "spinapp-consumers-b.yaml is not listed in resources"),
    ("the Secret template listed in the kustomization",
     lambda f: f[KUSTOMIZATION][0]["resources"].append(SECRET_TEMPLATE),
     "secret.example.yaml must not be a resource"),
    ("a document of an unknown kind",
     lambda f: f["executor.yaml"].append({"apiVersion": "v1", "kind": "Frobnicator",
                                          "metadata": {"name": "x"}}),
     "Frobnicator"),
]

# Text mutations: for what a parsed-and-dumped copy cannot express.
TEXT_MUTATIONS: list[tuple[str, str, Callable[[str], str], str]] = [
    ("a duplicate YAML key", "spinapp-http.yaml",
     lambda text: text.replace("  replicas: 2\n", "  replicas: 2\n  replicas: 3\n", 1),
     "duplicate key 'replicas'"),
]

DASHBOARD_MUTATIONS: list[tuple[str, Callable[[str], str], str]] = [
    ("dashboard not JSON", lambda text: text.replace("{", "{,", 1), "not valid JSON"),
    ("dashboard queries an unknown metric",
     lambda text: text.replace("spincart_cart_operations_total[", "spincart_cart_operation_total[", 1),
     "uses spincart_cart_operation_total"),
    ("dashboard without a panel for a family",
     lambda text: text.replace("spincart_dead_letters_total", "spincart_dead_letters"),
     "no panel shows spincart_dead_letters_total"),
]


def self_test(k8s_version: str, verbose: bool) -> int:
    failures = []
    with tempfile.TemporaryDirectory(prefix="spincart-deploy-") as tmp:
        def fresh() -> Path:
            target = Path(tmp) / "spinkube"
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(SPINKUBE_DIR, target)
            return target

        baseline = validate(fresh(), k8s_version=k8s_version)
        if baseline.errors:
            print("deploy/validate.py --self-test: the unmodified manifests do not pass:", file=sys.stderr)
            for e in baseline.errors:
                print(f"  {e}", file=sys.stderr)
            return 1

        def run(name: str, directory: Path, expected: str) -> None:
            errors = validate(directory, k8s_version=k8s_version).errors
            hit = next((e for e in errors if expected in e), None)
            if hit is None:
                failures.append(name)
                print(f"  NOT CAUGHT  {name}: expected an error containing {expected!r}; got "
                      f"{errors or 'no error'}")
            elif verbose:
                print(f"  caught      {name}: {hit}")

        # Writing the parsed documents back must not change the verdict by itself.
        directory = fresh()
        for path in sorted(directory.glob("*.yaml")):
            path.write_text(yaml.safe_dump_all(
                [b for b in yaml.safe_load_all(path.read_text()) if b is not None], sort_keys=False))
        round_trip = validate(directory, k8s_version=k8s_version).errors
        if round_trip:
            print("deploy/validate.py --self-test: the manifests fail once re-serialised (the self-test "
                  f"cannot tell its mutations apart): {round_trip}", file=sys.stderr)
            return 1

        for name, mutate, expected in MUTATIONS:
            directory = fresh()
            files = {p.name: [b for b in yaml.safe_load_all(p.read_text()) if b is not None]
                     for p in sorted(directory.glob("*.yaml"))}
            mutate(files)
            for file_name, bodies in files.items():
                (directory / file_name).write_text(yaml.safe_dump_all(bodies, sort_keys=False))
            run(name, directory, expected)
        for name, file_name, mutate_text, expected in TEXT_MUTATIONS:
            directory = fresh()
            path = directory / file_name
            before = path.read_text()
            after = mutate_text(before)
            if after == before:
                failures.append(name)
                print(f"  NOT APPLIED {name}: the text to change is no longer in {file_name}")
                continue
            path.write_text(after)
            run(name, directory, expected)

        # The dashboard: a copy broken in each way must fail.
        for name, mutate_text, expected in DASHBOARD_MUTATIONS:
            copy = Path(tmp) / DASHBOARD.name
            copy.write_text(mutate_text(DASHBOARD.read_text()))
            errors = dashboard_problems(copy)
            hit = next((e for e in errors if expected in e), None)
            if hit is None:
                failures.append(name)
                print(f"  NOT CAUGHT  {name}: expected an error containing {expected!r}; got "
                      f"{errors or 'no error'}")
            elif verbose:
                print(f"  caught      {name}: {hit}")

    total = len(MUTATIONS) + len(TEXT_MUTATIONS) + len(DASHBOARD_MUTATIONS)
    if failures:
        print(f"deploy/validate.py --self-test: FAILED: {len(failures)} of {total} broken manifests "
              f"passed validation: {', '.join(failures)}", file=sys.stderr)
        return 1
    print(f"deploy/validate.py --self-test: OK: the manifests pass, and all {total} broken copies "
          "are caught, each with the expected error" + ("" if verbose else " (--verbose lists them)"))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true",
                        help="check that broken copies of the manifests fail validation")
    parser.add_argument("--verbose", action="store_true",
                        help="with --self-test: print the error each broken copy got")
    parser.add_argument("--kubernetes-version", default=KUBERNETES_VERSION,
                        help=f"Kubernetes version of the core schemas (default {KUBERNETES_VERSION})")
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.kubernetes_version, args.verbose)
    result = validate(k8s_version=args.kubernetes_version)
    result.errors += dashboard_problems()
    if result.errors:
        for e in result.errors:
            print(f"deploy/validate.py: FAIL: {e}", file=sys.stderr)
        print(f"deploy/validate.py: {len(result.errors)} problem(s) in deploy/spinkube/", file=sys.stderr)
        return 1
    print(summary(result, args.kubernetes_version) + f"; {DASHBOARD.relative_to(ROOT)} names only "
          "metrics GET /metrics serves and shows every family")
    return 0


if __name__ == "__main__":
    sys.exit(main())
