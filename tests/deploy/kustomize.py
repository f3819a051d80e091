"""A tiny kustomize: enough of `kustomize build` to render deploy/k8s overlays in tests.

It understands exactly the fields our kustomizations use — ``resources`` (files and
directories), ``namespace``, ``images`` and ``patches`` holding strategic-merge patches that
name their target by kind and metadata.name — and refuses anything else, so a manifest change
that needs real kustomize features fails here instead of being silently mis-rendered.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
# Lists that strategic merge merges element-wise by a key (as Kubernetes' patchMergeKey does).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "envFrom": None,  # no merge key: replaced, like kustomize does
    "volumes": "name",
    "volumeMounts": "mountPath",
}
POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


class UnsupportedKustomization(ValueError):
    pass


def load_documents(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def build(directory: Path) -> list[Obj]:
    """Render the kustomization in ``directory`` (like ``kustomize build directory``)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(spec) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedKustomization(f"{directory}: fields {sorted(unknown)} not emulated")
    objects: list[Obj] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        objects += build(path) if path.is_dir() else load_documents(path)
    for patch in spec.get("patches", []):
        if set(patch) - {"patch", "path"}:
            raise UnsupportedKustomization(f"{directory}: only target-less SMP patches")
        doc = (
            yaml.safe_load(patch["patch"])
            if "patch" in patch
            else yaml.safe_load((directory / patch["path"]).read_text(encoding="utf-8"))
        )
        index = _find(objects, doc["kind"], doc["metadata"]["name"], directory)
        objects[index] = strategic_merge(objects[index], doc)
    namespace = spec.get("namespace")
    if namespace:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = namespace
    for image in spec.get("images", []):
        for container in containers_of(objects):
            container["image"] = _retag(container["image"], image)
    return objects


def _find(objects: list[Obj], kind: str, name: str, where: Path) -> int:
    hits = [i for i, obj in enumerate(objects) if obj["kind"] == kind and obj["metadata"]["name"] == name]
    if len(hits) != 1:
        raise UnsupportedKustomization(f"{where}: patch target {kind}/{name} matched {len(hits)}")
    return hits[0]


def strategic_merge(base: Any, patch: Any, key: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for field, value in patch.items():
            if value is None:
                merged.pop(field, None)
            elif field in merged:
                merged[field] = strategic_merge(merged[field], value, field)
            else:
                merged[field] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and MERGE_KEYS.get(key or ""):
        merge_key = MERGE_KEYS[key or ""]
        merged_list = copy.deepcopy(base)
        for item in patch:
            same = [i for i, old in enumerate(merged_list) if old.get(merge_key) == item[merge_key]]
            if same:
                merged_list[same[0]] = strategic_merge(merged_list[same[0]], item)
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def pod_spec(obj: Obj) -> Obj | None:
    if obj["kind"] not in POD_OWNERS:
        return None
    spec: Obj = obj["spec"]["template"]["spec"]
    return spec


def containers_of(objects: list[Obj]) -> list[Obj]:
    found: list[Obj] = []
    for obj in objects:
        spec = pod_spec(obj)
        if spec is not None:
            found += spec.get("initContainers", []) + spec["containers"]
    return found


def _retag(reference: str, image: Obj) -> str:
    name, _, tag = reference.partition(":")
    if "@" in name or name != image["name"]:
        return reference
    name = image.get("newName", name)
    if "digest" in image:
        return f"{name}@{image['digest']}"
    tag = image.get("newTag", tag)
    return f"{name}:{tag}" if tag else name
