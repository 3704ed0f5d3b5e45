#!/usr/bin/env python3
"""Runs the Python verifier (written from docs/FORMAT.md alone) over every
fixture and compares with fixtures/expected.json: the first bad position and
its reason, or the size and head of a valid ledger. Prints the plain
'N passed, N failed' line; exits non-zero on any disagreement."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from verify import verify  # noqa: E402

root = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")
expected = json.load(open(os.path.join(root, "expected.json")))
passed = failed = 0
for name, want in sorted(expected.items()):
    got = verify(open(os.path.join(root, name + ".jsonl"), "rb").read())
    if want["verdict"] == "valid":
        ok = got == ("valid", want["entries"], want["head"])
    else:
        ok = got == ("invalid", want["position"], want["reason"])
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"DISAGREE {name}: expected {want}, python verifier says {got}")
vectors = json.load(open(os.path.join(root, "vectors.json")))
got = verify(vectors["export"].encode())
if got[0] == "valid" and got[1] == 3 and got[2] == vectors["ledger"][2]["entry_sha256"]:
    passed += 1
else:
    failed += 1
    print(f"DISAGREE vectors: {got}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
