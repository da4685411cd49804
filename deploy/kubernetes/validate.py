#!/usr/bin/env python3
"""Checks the Kubernetes manifests offline: every document parses as YAML and carries the fields the API server
requires for its kind, and the pieces agree (the workers dial the coordinator's Service and port, every pod
mounts the claim that exists). No cluster or schema download needed. Usage: validate.py [DIR]"""
import pathlib
import sys

import yaml

directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
documents = [d for f in sorted(directory.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
errors = []


def need(doc, path):
    node = doc
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            errors.append(f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}: missing {path}")
            return None
        node = node[key]
    return node


by_kind = {}
for doc in documents:
    for field in ("apiVersion", "kind", "metadata.name"):
        need(doc, field)
    by_kind.setdefault(doc["kind"], []).append(doc)
    if doc["kind"] == "Job":
        containers = need(doc, "spec.template.spec.containers") or []
        need(doc, "spec.template.spec.restartPolicy")
        for c in containers:
            for field in ("name", "image", "args", "resources.requests.cpu", "resources.requests.memory"):
                need(c, field)
            if c.get("args", [None])[0] not in ("coordinator", "worker"):
                errors.append(f"Job/{doc['metadata']['name']}: container {c.get('name')} runs neither coordinator nor worker")
    if doc["kind"] == "Service":
        need(doc, "spec.selector")
        need(doc, "spec.ports")
    if doc["kind"] == "PersistentVolumeClaim":
        if "ReadWriteMany" not in (need(doc, "spec.accessModes") or []):
            errors.append("the data claim must be ReadWriteMany: every worker mounts it")

services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
claims = {c["metadata"]["name"] for c in by_kind.get("PersistentVolumeClaim", [])}
for job in by_kind.get("Job", []):
    spec = job["spec"]["template"]["spec"]
    for volume in spec.get("volumes", []):
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        if claim and claim not in claims:
            errors.append(f"Job/{job['metadata']['name']} mounts unknown claim {claim}")
    for c in spec["containers"]:
        if c["args"][0] == "worker":
            endpoint = c["args"][c["args"].index("--connect") + 1]
            host, port = endpoint.removeprefix("tcp://").split(":")
            service = services.get(host)
            if not service or int(port) not in [p["port"] for p in service["spec"]["ports"]]:
                errors.append(f"workers dial {endpoint}, which no Service provides")
            if job["spec"].get("completionMode") != "Indexed":
                errors.append("the workers should be an Indexed Job")
for e in errors:
    print("error:", e)
print(f"{len(documents)} manifests checked: {'ok' if not errors else f'{len(errors)} errors'}")
sys.exit(1 if errors else 0)
