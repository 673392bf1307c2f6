#!/usr/bin/env python3
"""Checks of the deploy files that no schema can express, run by tools/validate-deploy.sh.

  split <rendered.yaml> <dir>   core kinds to <dir>/core.yaml, each CRD document to <dir>/<schema>/<n>.json
  rules <rendered.yaml>         the rules of one rendered overlay (autoscaling, grace periods, secrets, selectors,
                                NATS: URL, store, replicas, routes, the consumers' scaler)
  compose <docker-compose.yml>  the rules of the compose file (scalable workers and consumers, start order, pinned
                                images, NATS with a persistent store)
  prometheus <prometheus.yml> <dir>
                                its rule files exist and are alerts.yml, runbook links resolve; writes alerts.yml's
                                groups as a PrometheusRule to <dir>/prometheusrule/ for the schema check

Every finding is printed; the exit code is 1 if there was one.
"""

import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

SERVICES = ("orders", "inventory", "payments", "shipping")
# Event consumers (`consumer --service <name>`), each a durable JetStream consumer of that name on EVENTS_STREAM.
CONSUMERS = ("notifications",)
EVENTS_STREAM = "ORDER_EVENTS"
# A consumer reads events and writes its own tables: it never needs the workflow payload keys or the API's keys.
CONSUMER_FORBIDDEN_ENV = ("PAYLOAD_KEYS", "API_KEYS", "ADMIN_API_KEYS")
# Where a consumer's HTTP server (/metrics, /healthz, /readyz) listens (core/config: 127.0.0.1:9096 by default; the
# image sets only the host): deploy files set both, to the pod's address and the port probes and Prometheus use.
CONSUMER_HTTP_ENV = ("CONSUMER_HTTP_HOST", "CONSUMER_HTTP_PORT")
# NATS's monitoring port (/healthz, /jsz), which KEDA's nats-jetstream scaler reads.
NATS_MONITOR_PORT = 8222
# Custom resources we validate against schemas committed in deploy/schemas (written from the CRDs).
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule",
}
ROOT = Path(__file__).resolve().parent.parent
# The alerting rules, written once: Prometheus loads this file, the PrometheusRule carries a copy of its groups.
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
# Env vars that hold credentials: their value must come from a Secret, never from the manifest.
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL)", re.I)
# A container's drain (SHUTDOWN_GRACE_SECONDS) needs this much slack before the kubelet's SIGKILL.
GRACE_MARGIN_SECONDS = 5

findings: list[str] = []


def fail(message: str) -> None:
    findings.append(message)


def load_all(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def ident(doc: dict) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def is_core(api_version: str) -> bool:
    group = api_version.split("/")[0] if "/" in api_version else ""
    return group == "" or "." not in group or group.endswith(".k8s.io")


def split(rendered: str, out_dir: str) -> None:
    out = Path(out_dir)
    core = []
    for index, doc in enumerate(load_all(rendered)):
        key = (doc.get("apiVersion", ""), doc.get("kind", ""))
        if key in CRD_SCHEMAS:
            target = out / CRD_SCHEMAS[key]
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{index:03d}.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        elif is_core(key[0]):
            core.append(doc)
        else:
            fail(f"{ident(doc)}: {key[0]} has no schema in deploy/schemas; write one before using this kind")
    (out / "core.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False), encoding="utf-8")


def pod_spec(doc: dict) -> dict:
    return doc.get("spec", {}).get("template", {}).get("spec", {})


def pod_labels(doc: dict) -> dict:
    return doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})


def selects(selector: dict, labels: dict) -> bool:
    match = selector.get("matchLabels", selector)
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def seconds(value: object) -> float:
    """Compose durations (`30s`, `1m30s`) and plain numbers, in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(value)):
        total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def check_containers(doc: dict, config_keys: set[str]) -> None:
    spec = pod_spec(doc)
    if not spec.get("securityContext", {}).get("runAsNonRoot"):
        fail(f"{ident(doc)}: pod securityContext.runAsNonRoot must be true")
    for container in spec.get("containers", []):
        where = f"{ident(doc)} container {container.get('name')}"
        resources = container.get("resources", {})
        for kind, keys in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
            missing = [k for k in keys if k not in resources.get(kind, {})]
            if missing:
                fail(f"{where}: resources.{kind} lacks {', '.join(missing)}")
        if doc["kind"] in ("Deployment", "StatefulSet"):
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    fail(f"{where}: no {probe}")
        for env in container.get("env", []):
            if SECRET_NAME.search(env["name"]) and "secretKeyRef" not in env.get("valueFrom", {}):
                fail(f"{where}: {env['name']} must come from a Secret (valueFrom.secretKeyRef)")
    for key in config_keys:
        if SECRET_NAME.search(key):
            fail(f"ConfigMap key {key} looks like a credential: put it in the Secret")


def rules(rendered: str) -> None:
    docs = load_all(rendered)
    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    config_maps = by_kind.get("ConfigMap", [])
    config = next((c["data"] for c in config_maps if c["metadata"]["name"].startswith("order-saga-config")), None)
    release = next((c["data"] for c in config_maps if c["metadata"]["name"].startswith("order-saga-release")), None)
    if config is None or release is None:
        fail("the order-saga-config and order-saga-release ConfigMaps must both be rendered")
        return
    versioned = config.get("WORKER_VERSIONING") == "true"
    build_id = release.get("BUILD_ID", "")
    grace = float(config.get("SHUTDOWN_GRACE_SECONDS", "0"))
    config_keys = {k for c in config_maps for k in c.get("data", {})}

    deployments = by_kind.get("Deployment", [])
    statefulsets = by_kind.get("StatefulSet", [])
    workers, consumers = {}, {}
    for doc in deployments + statefulsets + by_kind.get("Job", []):
        check_containers(doc, config_keys)
    for doc in deployments:
        args = pod_spec(doc)["containers"][0].get("args", [])
        if args[:1] in (["api"], ["worker"], ["consumer"]):
            check_config_from_map(doc)
        if args[:2] == ["consumer", "--service"]:
            consumers[args[2]] = doc
            check_grace(doc, grace)
            container = pod_spec(doc)["containers"][0]
            for env in container.get("env", []):
                if env["name"] in CONSUMER_FORBIDDEN_ENV:
                    fail(f"{ident(doc)}: a consumer gets no {env['name']} (it reads events, not payloads or requests)")
            values = {e["name"]: e.get("value") for e in container.get("env", [])}
            metrics = {str(p["containerPort"]) for p in container.get("ports", []) if p.get("name") == "metrics"}
            host, port = (values.get(k) for k in CONSUMER_HTTP_ENV)
            if host != "0.0.0.0" or port not in metrics:
                fail(f"{ident(doc)}: set CONSUMER_HTTP_HOST=0.0.0.0 and CONSUMER_HTTP_PORT to its `metrics` port"
                     " (the port its probes, the metrics Service and the scrape policy use)")
        if args[:2] == ["worker", "--service"]:
            workers[args[2]] = doc
            check_grace(doc, grace)
            image = pod_spec(doc)["containers"][0].get("image", "")
            if versioned and not doc["metadata"]["name"].endswith(f"-{build_id}"):
                fail(f"{ident(doc)}: with versioning on, worker Deployments are named after their build ({build_id})")
            if versioned and not image.endswith(f":{build_id}"):
                fail(f"{ident(doc)}: image {image} is not tagged with the build id {build_id}")
    for service in SERVICES:
        if service not in workers:
            fail(f"no worker Deployment runs `worker --service {service}`")
    for consumer in CONSUMERS:
        if consumer not in consumers:
            fail(f"no Deployment runs `consumer --service {consumer}`")
    nats = check_nats(by_kind, config)

    scaled = {}
    targets = {**workers, **consumers}
    for so in by_kind.get("ScaledObject", []):
        spec = so["spec"]
        target = next((d for d in deployments if d["metadata"]["name"] == spec["scaleTargetRef"]["name"]), None)
        if target is None:
            fail(f"{ident(so)}: scaleTargetRef {spec['scaleTargetRef']['name']} is no rendered Deployment")
            continue
        service = next((s for s, d in targets.items() if d is target), None)
        scaled[service] = so
        if service in consumers and not any(t.get("type") == "nats-jetstream" for t in spec["triggers"]):
            fail(f"{ident(so)}: a consumer scales on its lag (a nats-jetstream trigger)")
        if spec.get("minReplicaCount", 0) < 1:
            fail(f"{ident(so)}: minReplicaCount must be >= 1 (an empty backlog can mean busy workers)")
        if spec.get("maxReplicaCount", 100) < spec.get("minReplicaCount", 0):
            fail(f"{ident(so)}: maxReplicaCount is below minReplicaCount")
        for trigger in spec["triggers"]:
            meta = trigger.get("metadata", {})
            if trigger.get("type") == "nats-jetstream":
                check_nats_trigger(so, meta, service, nats)
            if trigger.get("type") != "temporal":
                continue
            if meta.get("endpoint") != config.get("TEMPORAL_ADDRESS"):
                fail(f"{ident(so)}: endpoint {meta.get('endpoint')} != TEMPORAL_ADDRESS {config.get('TEMPORAL_ADDRESS')}")
            if meta.get("namespace", "default") != config.get("TEMPORAL_NAMESPACE", "default"):
                fail(f"{ident(so)}: namespace differs from TEMPORAL_NAMESPACE")
            if meta.get("taskQueue") != service:
                fail(f"{ident(so)}: taskQueue {meta.get('taskQueue')} is not the queue of its target ({service})")
            if versioned:
                expected = f"{config.get('WORKER_DEPLOYMENT_PREFIX', 'order-saga')}-{service}"
                if meta.get("workerDeploymentName") != expected or meta.get("workerDeploymentBuildId") != build_id:
                    fail(f"{ident(so)}: must watch worker deployment {expected} build {build_id}")
            elif "workerDeploymentName" in meta or "workerDeploymentBuildId" in meta:
                fail(f"{ident(so)}: versioning is off, yet it watches a worker deployment version")
    for service, doc in targets.items():
        if service not in scaled:
            fail(f"{ident(doc)}: no ScaledObject scales it")
    for doc in list(targets.values()) + statefulsets:
        if not any(selects(p["spec"]["selector"], pod_labels(doc)) for p in by_kind.get("PodDisruptionBudget", [])):
            fail(f"{ident(doc)}: no PodDisruptionBudget covers its pods")

    templates = [pod_labels(d) for d in deployments + statefulsets]
    for svc in by_kind.get("Service", []):
        if not any(selects(svc["spec"].get("selector", {}), labels) for labels in templates):
            fail(f"{ident(svc)}: its selector matches no pod")
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        if not any(d["metadata"]["name"] == hpa["spec"]["scaleTargetRef"]["name"] for d in deployments):
            fail(f"{ident(hpa)}: scaleTargetRef is no rendered Deployment")
    check_prometheus_rules(docs)
    policies = by_kind.get("NetworkPolicy", [])
    if not any(p["spec"].get("podSelector") == {} and not p["spec"].get("ingress") for p in policies):
        fail("no default-deny ingress NetworkPolicy")
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if not rule.get("from") and not selects(policy["spec"]["podSelector"], {"app.kubernetes.io/component": "api"}):
                fail(f"{ident(policy)}: opens ingress from anywhere to something other than the API")


def check_grace(doc: dict, grace: float) -> None:
    termination = pod_spec(doc).get("terminationGracePeriodSeconds", 30)
    if termination < grace + GRACE_MARGIN_SECONDS:
        fail(f"{ident(doc)}: terminationGracePeriodSeconds {termination} < SHUTDOWN_GRACE_SECONDS {grace:g}"
             f" + {GRACE_MARGIN_SECONDS}: the kubelet would kill in-flight tasks")


def check_config_from_map(doc: dict) -> None:
    """The API, workers and consumers read order-saga-config whole: NATS_URL and the stream limits come with it."""
    container = pod_spec(doc)["containers"][0]
    refs = [e.get("configMapRef", {}).get("name", "") for e in container.get("envFrom", [])]
    if not any(name.startswith("order-saga-config") for name in refs):
        fail(f"{ident(doc)}: envFrom must include order-saga-config (NATS_URL, stream limits, Temporal address)")


def nats_config_text(sts: dict, by_kind: dict) -> str:
    """The server configuration the NATS StatefulSet mounts (its first ConfigMap volume, every file in it)."""
    names = [v["configMap"]["name"] for v in pod_spec(sts).get("volumes", []) if "configMap" in v]
    maps = [c for c in by_kind.get("ConfigMap", []) if c["metadata"]["name"] in names]
    return "\n".join(text for c in maps for text in c.get("data", {}).values())


def service_named(by_kind: dict, host: str, namespace: str) -> dict | None:
    """The rendered Service a host name means from inside the namespace (`nats`, `nats.<ns>`, `nats.<ns>.svc...`)."""
    for svc in by_kind.get("Service", []):
        name = svc["metadata"]["name"]
        forms = {name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"}
        if host in forms:
            return svc
    return None


def check_nats(by_kind: dict, config: dict) -> dict | None:
    """NATS_URL is set; if the overlay runs NATS itself: the URL names its Service, the store is a volume claim,
    the streams' replicas fit the servers, and a cluster's routes name every server. Returns what triggers need."""
    urls = [u.strip() for u in config.get("NATS_URL", "").split(",") if u.strip()]
    if not urls:
        fail("order-saga-config has no NATS_URL: the API, every worker's relay and the consumers need it")
    images = lambda d: [c.get("image", "") for c in pod_spec(d).get("containers", [])]
    sts = next((d for d in by_kind.get("StatefulSet", []) if any(re.search(r"(^|/)nats:", i) for i in images(d))), None)
    if sts is None:
        return None
    namespace = sts["metadata"].get("namespace", "default")
    replicas = sts["spec"].get("replicas", 1)
    headless_name = sts["spec"].get("serviceName", "")
    headless = next((s for s in by_kind.get("Service", []) if s["metadata"]["name"] == headless_name), None)
    if headless is None or headless["spec"].get("clusterIP") != "None":
        fail(f"{ident(sts)}: serviceName {headless_name!r} must be a rendered headless Service (clusterIP: None)")
    elif NATS_MONITOR_PORT not in {p["port"] for p in headless["spec"].get("ports", [])}:
        fail(f"{ident(headless)}: must expose the monitoring port {NATS_MONITOR_PORT} (KEDA asks each server)")
    for url in urls:
        parts = urlsplit(url)
        svc = service_named(by_kind, parts.hostname or "", namespace)
        if svc is None:
            fail(f"NATS_URL {url}: {parts.hostname} is no rendered Service, though this overlay runs NATS")
        elif (parts.port or 4222) not in {p["port"] for p in svc["spec"].get("ports", [])}:
            fail(f"NATS_URL {url}: {ident(svc)} has no port {parts.port or 4222}")
    stream_replicas = int(config.get("EVENTS_STREAM_REPLICAS", "1"))
    if stream_replicas > replicas:
        fail(f"EVENTS_STREAM_REPLICAS {stream_replicas} > {replicas} NATS server(s): the streams could not be created")
    conf = nats_config_text(sts, by_kind)
    store = re.search(r"store_dir\s*[:=]\s*\"?([^\s\"]+)", conf)
    claims = {c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])}
    mounts = {m["mountPath"]: m["name"] for c in pod_spec(sts)["containers"] for m in c.get("volumeMounts", [])}
    if store is None or mounts.get(store.group(1)) not in claims:
        fail(f"{ident(sts)}: the JetStream store_dir must be mounted from a volumeClaimTemplate (events are data)")
    if replicas > 1:
        if replicas % 2 == 0:
            fail(f"{ident(sts)}: {replicas} servers; use an odd number (a quorum of {replicas // 2 + 1} survives"
                 f" no more failures than {replicas - 1} servers would)")
        routes = set(re.findall(r"nats://([a-z0-9-]+)-(\d+)\.([a-z0-9-]+)[^:\s]*:(\d+)", conf))
        expected = {(sts["metadata"]["name"], str(i), headless_name, "6222") for i in range(replicas)}
        if not re.search(r"^\s*cluster\s*[{:]", conf, re.M) or routes != expected:
            fail(f"{ident(sts)}: {replicas} servers need a cluster block whose routes are exactly "
                 + ", ".join(f"nats://{n}-{i}.{h}:{p}" for n, i, h, p in sorted(expected)))
    return {"namespace": namespace, "headless": headless_name}


def check_nats_trigger(so: dict, meta: dict, service: str | None, nats: dict | None) -> None:
    if meta.get("stream") != EVENTS_STREAM:
        fail(f"{ident(so)}: stream {meta.get('stream')} is not {EVENTS_STREAM}")
    if meta.get("consumer") != service:
        fail(f"{ident(so)}: consumer {meta.get('consumer')} is not the durable of its target ({service})")
    if not meta.get("account") or not meta.get("natsServerMonitoringEndpoint"):
        fail(f"{ident(so)}: set account ($G without accounts) and natsServerMonitoringEndpoint")
    if nats is not None:
        expected = f"{nats['headless']}.{nats['namespace']}.svc.cluster.local:{NATS_MONITOR_PORT}"
        if meta.get("natsServerMonitoringEndpoint") != expected:
            fail(f"{ident(so)}: natsServerMonitoringEndpoint {meta.get('natsServerMonitoringEndpoint')} != {expected}"
                 " (KEDA runs in its own namespace, and finds each server as <server>.<this host>)")


def alert_groups() -> list:
    with open(ALERTS, encoding="utf-8") as handle:
        return (yaml.safe_load(handle) or {}).get("groups", [])


def check_prometheus_rules(docs: list[dict]) -> None:
    """The rendered PrometheusRule carries exactly the groups of alerts.yml, so the two cannot drift."""
    source = ALERTS.relative_to(ROOT)
    found = [d for d in docs if d.get("kind") == "PrometheusRule"]
    if len(found) != 1:
        fail(f"expected one PrometheusRule (the groups of {source}), rendered {len(found)}")
        return
    groups, expected = found[0].get("spec", {}).get("groups"), alert_groups()
    if groups == expected:
        return
    flat = lambda gs: [(g.get("name"), r) for g in gs or [] for r in g.get("rules", [])] + [(None, None)]
    first = next((b for a, b in zip(flat(groups), flat(expected)) if a != b), None)
    if first is None:
        where = "a group's own settings"
    elif first[1] is None:
        where = "the end: the PrometheusRule has rules alerts.yml does not"
    else:
        where = f"rule {first[1].get('alert') or first[1].get('record')} of group {first[0]}"
    fail(f"{ident(found[0])}: spec.groups differ from {source} (first at {where}): copy its groups here")


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def prometheus(config_path: str, out_dir: str) -> None:
    config_file = Path(config_path)
    with open(config_file, encoding="utf-8") as handle:
        config = yaml.safe_load(handle) or {}
    rule_files = [(config_file.parent / f).resolve() for f in config.get("rule_files", [])]
    for path in rule_files:
        if not path.is_file():
            fail(f"{config_path}: rule file {path} does not exist")
    if ALERTS.resolve() not in rule_files:
        fail(f"{config_path}: rule_files does not load {ALERTS.relative_to(ROOT)}")
    groups = alert_groups()
    seen: set[str] = set()
    for group in groups:
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            if name in seen:
                fail(f"{ALERTS.relative_to(ROOT)}: {name} is defined twice")
            seen.add(name)
            runbook = rule.get("annotations", {}).get("runbook_url", "")
            if not runbook:
                continue
            doc, _, anchor = runbook.partition("#")
            target = ROOT / doc
            if not target.is_file():
                fail(f"{name}: runbook_url {runbook}: no file {doc}")
                continue
            headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
            if anchor and anchor not in {slug(h) for h in headings}:
                fail(f"{name}: runbook_url {runbook}: {doc} has no heading with anchor #{anchor}")
    # The same structure checks as the PrometheusRule's (check-jsonschema), without promtool.
    target = Path(out_dir) / "prometheusrule"
    target.mkdir(parents=True, exist_ok=True)
    wrapped = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
               "metadata": {"name": "alerts-yml"}, "spec": {"groups": groups}}
    (target / "alerts.json").write_text(json.dumps(wrapped, indent=1), encoding="utf-8")


def compose(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    services = spec.get("services", {})
    for name, service in services.items():
        image = service.get("image", "")
        if "build" not in service and (":" not in image or image.endswith(":latest")):
            fail(f"compose {name}: image {image!r} must be pinned to a tag")
        for dependency in service.get("depends_on", {}) or {}:
            if dependency not in services:
                fail(f"compose {name}: depends on unknown service {dependency}")
    scalable = [(f"{s}-worker", ["worker", "--service", s]) for s in SERVICES]
    scalable += [(c, ["consumer", "--service", c]) for c in CONSUMERS]
    for name, command in scalable:
        worker = services.get(name)
        if worker is None:
            fail(f"compose: no {name} service")
            continue
        if "container_name" in worker or worker.get("ports"):
            fail(f"compose {name}: container_name or host ports stop `--scale {name}=N`")
        if worker.get("command", [])[:3] != command:
            fail(f"compose {name}: command must be `{' '.join(command)}`")
        grace = float(worker.get("environment", {}).get("SHUTDOWN_GRACE_SECONDS", "20"))
        if seconds(worker.get("stop_grace_period", "10s")) < grace + GRACE_MARGIN_SECONDS:
            fail(f"compose {name}: stop_grace_period must exceed SHUTDOWN_GRACE_SECONDS ({grace:g}) + margin")
        if "healthcheck" not in worker:
            fail(f"compose {name}: no healthcheck")
        if command[0] == "consumer":
            env = worker.get("environment", {})
            for key in CONSUMER_FORBIDDEN_ENV:
                if key in env:
                    fail(f"compose {name}: a consumer gets no {key} (it reads events, not payloads or requests)")
            probe = " ".join(map(str, worker.get("healthcheck", {}).get("test", [])))
            host, port = (str(env.get(k)) for k in CONSUMER_HTTP_ENV)
            if host != "0.0.0.0" or f":{port}/" not in probe:
                fail(f"compose {name}: set CONSUMER_HTTP_HOST=0.0.0.0 and CONSUMER_HTTP_PORT to the port its"
                     " healthcheck and Prometheus use")
    compose_nats(spec, ["api"] + [name for name, _ in scalable])


def compose_nats(spec: dict, users: list[str]) -> None:
    """A `nats` service with JetStream on a named volume and a health check; every process that publishes, reads
    or consumes events has NATS_URL and starts once NATS is healthy."""
    services = spec.get("services", {})
    nats = services.get("nats")
    if nats is None:
        fail("compose: no nats service (the event broker)")
        return
    command = [str(part) for part in nats.get("command", [])]
    store = next((command[i + 1] for i, a in enumerate(command[:-1]) if a in ("-sd", "--store_dir")), None)
    if not {"-js", "--jetstream"} & set(command) or store is None:
        fail("compose nats: command must enable JetStream with a store (-js -sd <dir>)")
    volumes = [str(v).split(":") for v in nats.get("volumes", [])]
    if not any(len(v) >= 2 and v[1] == store and v[0] in (spec.get("volumes") or {}) for v in volumes):
        fail(f"compose nats: the store {store} must be a named volume (events survive `docker compose down`)")
    if "healthcheck" not in nats:
        fail("compose nats: no healthcheck")
    for name in users:
        service = services.get(name)
        if service is None:
            continue
        if not service.get("environment", {}).get("NATS_URL"):
            fail(f"compose {name}: no NATS_URL")
        if (service.get("depends_on") or {}).get("nats", {}).get("condition") != "service_healthy":
            fail(f"compose {name}: must depend on nats with condition service_healthy")


def main(argv: list[str]) -> int:
    command, *args = argv
    {"split": split, "rules": rules, "compose": compose, "prometheus": prometheus}[command](*args)
    for finding in findings:
        print(f"  FAIL {finding}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
