#!/usr/bin/env python3
"""Anchor for the validation benchmark: the Python `jsonschema` package validating the 18 official
CACAO examples against the OFFICIAL schemas (../shared/cacao/schemas), read as draft 2020-12 like
our conformance test does. Prints playbooks/s on one core (median of 7 runs).

    pip install jsonschema referencing && python3 benches/jsonschema_anchor.py
"""
import glob
import json
import os
import statistics
import time

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "cacao")

resources = []
for path in glob.glob(os.path.join(SHARED, "schemas", "**", "*.json"), recursive=True):
    with open(path) as f:
        schema = json.load(f)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    resources.append((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)))
registry = Registry().with_resources(resources)
root = registry.contents(
    "https://raw.githubusercontent.com/oasis-open/cacao-json-schemas/main/schemas/playbook.json"
)
validator = jsonschema.Draft202012Validator(root, registry=registry)

texts = []
for path in sorted(glob.glob(os.path.join(SHARED, "examples", "*.json"))):
    with open(path, "rb") as f:
        texts.append(f.read())

def one_pass():
    for t in texts:
        doc = json.loads(t)
        for _ in validator.iter_errors(doc):
            pass

one_pass()  # warm caches
rates = []
for _ in range(7):
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        one_pass()
        n += len(texts)
    rates.append(n / (time.perf_counter() - start))
print(f"python jsonschema {jsonschema.__version__ if hasattr(jsonschema, '__version__') else ''}: "
      f"{statistics.median(rates):.0f} playbooks/s (median of 7 one-second runs, {len(texts)} files)")
