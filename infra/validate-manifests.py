#!/usr/bin/env python3
"""Validate Kubernetes manifests offline, strictly (unknown fields are errors).

    .tools/venv/bin/python infra/validate-manifests.py infra/k8s/*.yaml

Kubernetes' own kinds are checked against the JSON schemas that the PyPI package kubernetes-validate
bundles (strict variants, Kubernetes 1.25 to 1.37), so no schema is downloaded at run time; the KEDA
kinds against the schemas in infra/k8s/schemas/. Unlike kubernetes-validate's own command, every error
of an object is reported, not the first, and a kind without a schema is an error, not a warning: a
typo in apiVersion or kind must not pass.

One line per object; exit 0 when every object of every file is valid, 1 otherwise, 2 on bad usage.
Installed by `bash infra/tools.sh install manifests`.
"""

import json
import pathlib
import re
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kubernetes
from referencing import Registry, Resource

# The oldest Kubernetes the manifests are meant for, and the newest the pinned package knows.
KUBERNETES_VERSIONS = ["1.30", "1.37"]
SCHEMAS = pathlib.Path(__file__).resolve().parent / "k8s" / "schemas"


def custom_schemas():
    """{(apiVersion, kind): schema} of infra/k8s/schemas/*.json, from their apiVersion and kind consts."""
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        properties = schema["properties"]
        schemas[(properties["apiVersion"]["const"], properties["kind"]["const"])] = schema
    return schemas


def strict_schema(name, version):
    """A file of the strict schemas for one Kubernetes version that kubernetes-validate bundles."""
    folder = "v%s.0-local-strict" % version
    return kubernetes.schema_contents("kubernetes-json-schema/%s/%s" % (folder, name), version)


def kubernetes_schema(document, version):
    """The bundled schema of a Kubernetes kind, e.g. deployment-apps-v1.json; None for an unknown one."""
    # As kubernetes-validate names them: apps/v1 -> apps-v1, rbac.authorization.k8s.io/v1 -> rbac-v1.
    api_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", document["apiVersion"])
    try:
        return strict_schema("%s-%s.json" % (document["kind"].lower(), api_version), version)
    except FileNotFoundError:
        return None


def message(error):
    """jsonschema's message, or for anyOf / oneOf what each alternative missed."""
    if not error.context:
        return error.message
    return "none of: " + "; ".join(sorted({sub.message for sub in error.context}))


def errors_of(document, custom):
    """Every problem of one object, across KUBERNETES_VERSIONS, each once."""
    if not isinstance(document, dict) or not document.get("apiVersion") or not document.get("kind"):
        return ["not a Kubernetes object (apiVersion and kind are required)"]
    found = []
    for version in KUBERNETES_VERSIONS:
        schema = custom.get((document["apiVersion"], document["kind"])) or kubernetes_schema(document, version)
        if schema is None:
            return [
                "no schema for kind %s of apiVersion %s (a typo in either, or a CRD without a schema in "
                "infra/k8s/schemas)" % (document["kind"], document["apiVersion"])
            ]
        # Both kinds of schema refer to Kubernetes' shared definitions (ObjectMeta, PodSpec, ...).
        registry = Resource.from_contents(strict_schema("_definitions.json", version)) @ Registry()
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
            line = "%s: %s" % (".".join(str(p) for p in error.absolute_path) or "(top)", message(error))
            if line not in found:
                found.append(line)
    return found


def validate_file(path, schemas):
    """Prints one line per object of the file; returns whether all of them are valid."""
    try:
        documents = [d for d in yaml.safe_load_all(pathlib.Path(path).read_text()) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        print("FAIL %s: %s" % (path, e))
        return False
    if not documents:
        print("FAIL %s: no Kubernetes object in it" % path)
        return False
    ok = True
    for document in documents:
        name = "%s/%s" % (document.get("kind", "?"), (document.get("metadata") or {}).get("name", "?")) \
            if isinstance(document, dict) else "?"
        errors = errors_of(document, schemas)
        if errors:
            ok = False
            for error in errors:
                print("FAIL %s: %s: %s" % (path, name, error))
        else:
            print("ok   %s: %s (Kubernetes %s)" % (path, name, ", ".join(KUBERNETES_VERSIONS)))
    return ok


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schemas = custom_schemas()
    results = [validate_file(path, schemas) for path in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
