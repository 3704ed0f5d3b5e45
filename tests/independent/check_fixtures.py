#!/usr/bin/env python3
"""Runs the Python verifier (written from docs/FORMAT.md alone) over every
fixture and vector, and compares:

* every fixture listed in fixtures/expected.json, of formats 1, 2 and 3
  (fixtures/v3/valid and fixtures/v3/tampered/*): the first bad position and
  its reason, or the size and head of a valid ledger;
* the three-entry ledgers of vectors.json (top level = format 1, "format_2"
  = format 2): their keys, payload, signature, entries and export;
* the screen cases of vectors.json: the term each format finds in each text;
* the worked examples written in FORMAT.md section 10;
* section 14, the transparency log (tlog.py): the root of every valid
  fixture (`root` in expected.json), vectors.json["checkpoint"] (leaf hashes,
  root, verifier keys, the checkpoint and its signature, a cosignature under
  a witness policy, the receipt of entry 2) with altered copies of each that
  must be refused, checkpoints spelled in ways that must be refused, RFC 6962
  inclusion and consistency proofs over every prefix of fixtures/v2/valid,
  each of section 14's "Exact rules for verifiers" (notes, known and
  repeated lines, witnesses and quorums, timestamps, verifier keys,
  receipts, consistency edge cases, the checkpoints seen), and the command
  line of verify.py;
* section 15, format 3's secret referendums:
  - the primitives: Keccak-f[1600] (merlin.py) against hashlib's SHA3-256,
    Merlin's published test vector and vectors.json["secret_format_3"]
    ["merlin"]; ristretto255 (ristretto255.py) against RFC 9496 Appendix A
    (the multiples of G, the encodings to refuse), the identity and zero
    scalar edge cases, and the system's libsodium when one is installed;
    X25519 (secret.py, RFC 7748) against RFC 7748's vectors and libsodium,
    the small-order test of section 15.2 on every small-order u and its
    non-canonical spellings, and boxes whose shared secret is zero;
  - every case of vectors.json["secret_format_3"]: each dealt polynomial
    (commitment, proof of possession, as a trustee_dealt body) and the
    tampered one's code; the key shares and election key derived from the
    dealt polynomials; both ballots, each case's "valid" flag, decoded as
    ballot_cast bodies, and non-canonical copies; the tally ciphertexts; the
    decryption share cases; the box (it opens, tag first, to the scalar
    that trustee 0's polynomial commits to at x = 2; the recipient's box
    key is X25519(box secret, 9); its nonce is the ceremony's);
  - rules no fixture reaches, on ledgers rebuilt from fixtures/v3's signed
    payloads at other positions and times (a complaint that is unfounded,
    ceremony_closed, ceremony_out_of_order, share_too_early,
    ceremony_incomplete, a second declaration, shares in the other order, an
    upheld complaint moved into voting and to closes_at_ms, the new
    fixtures' calls and commitment against the window check, calling again
    and ceremony_step_repeated);
  - every rule code and check order of section 15 on synthetic format 3
    ledgers signed with keys made by v3_synthetic.py (the call's trustees,
    the ceremony, small-order box keys, the complaints before and during
    voting, calling again, ballots and re-voting, an identity election key,
    decryption shares, the declaration, the decoding of the new bodies). These two groups check the
    Python verifier against its author's reading of FORMAT.md only.
* section 16.2, the locked key file (client_files.py): fixtures/client-files.json's
  file opens with its passphrase to its seed, whose Ed25519 public key is the
  file's; the wrong passphrase and every altered copy are refused, each for
  the fault it names; and, from this reader's own reading of section 16.2,
  each refusal rule the section lists on copies of that file (its bounds
  accepted at their edges) and a file this module writes, read back.

Prints the plain 'N passed, N failed' line; exits non-zero on any
disagreement. Needs: pynacl, regex, unicodedata2, confusables (see screen.py).
"""
import base64
import copy
import ctypes
import ctypes.util
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nacl.bindings  # noqa: E402
import nacl.signing  # noqa: E402

import client_files  # noqa: E402
import merlin  # noqa: E402
import ristretto255 as r255  # noqa: E402
import screen  # noqa: E402
import secret  # noqa: E402
import tlog  # noqa: E402
from verify import (SMALL_ORDER, Bad, check_dealt_polynomial, content_hash, decode_entry, decode_payload,  # noqa: E402
                    replay, signature_ok, verify)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "fixtures")
results = {"passed": 0, "failed": 0}
timings = {"v3": 0.0}  # seconds spent replaying the format 3 fixtures


def check(name, ok, detail=""):
    if ok:
        results["passed"] += 1
    else:
        results["failed"] += 1
        print(f"DISAGREE {name}: {detail}")


def check_fixtures():
    expected = json.load(open(os.path.join(ROOT, "expected.json")))
    for name, want in sorted(expected.items()):
        started = time.monotonic()
        with open(os.path.join(ROOT, name + ".jsonl"), "rb") as f:
            result = replay(f.read())
        if name.startswith("v3/"):
            timings["v3"] += time.monotonic() - started
        got = result.verdict
        if want["verdict"] == "valid":
            ok = got == ("valid", want["entries"], want["head"])
            # Section 14: the RFC 6962 root of the entries, base64.
            root = base64.b64encode(tlog.tree_root(result.entries)).decode()
            check(f"{name} root", root == want.get("root"), f"expected {want.get('root')}, python says {root}")
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


# --------------------------------------------------------------------------
# Section 14: the transparency log

# The log verifier key written in FORMAT.md section 14 (prose, not a fixture).
FORMAT_MD_LOG_KEY = "vectors.example/ledger+a482fe66+AQPjdogTttYVwyYAseT2YK+8Bcg/oEORbV1vPMZirO/h"
WITNESS_NAME = "witness.example/w1"  # the name in vectors.json's witness verifier key


def public_key(seed):
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def sign_line(text, name, type_, seed, timestamp=None):
    """A signature line `— name base64(key id || [timestamp ||] signature)`, as a
    log (type 0x01) or a witness (type 0x04, cosignature/v1) would write it.
    Used to build checkpoints whose only fault is their spelling."""
    key = nacl.signing.SigningKey(seed)
    if timestamp is None:
        body = key.sign(text).signature
    else:
        body = timestamp.to_bytes(8, "big") + key.sign(tlog.cosignature_message(text, timestamp)).signature
    raw = tlog.key_id(name, type_, bytes(key.verify_key)) + body
    return "\u2014 %s %s\n".encode() % (name.encode(), base64.b64encode(raw))


def signed_checkpoint(text, origin, seed):
    """The text, the empty line, and the log's signature line."""
    return text + b"\n" + sign_line(text, origin, tlog.ED25519, seed)


def alter_signature(note, name, at=-1):
    """The note with one byte of `name`'s signature line flipped (the decoded
    bytes, re-encoded canonically: only the signature changes)."""
    lines = note.split(b"\n")
    prefix = "\u2014 %s " % name
    for i, line in enumerate(lines):
        if line.startswith(prefix.encode()):
            raw = bytearray(base64.b64decode(line[len(prefix.encode()):]))
            raw[at] ^= 0x01
            lines[i] = prefix.encode() + base64.b64encode(bytes(raw))
    return b"\n".join(lines)


def refused(fn, *args, because=None):
    """True if fn(*args) raises TlogError (whose reason contains `because`,
    when given: the refusal is for the fault the test meant). With
    DAUYS_SHOW_REASONS set in the environment, prints each reason."""
    try:
        fn(*args)
    except tlog.TlogError as e:
        if os.environ.get("DAUYS_SHOW_REASONS"):
            print(f"  refused: {e}")
        return because is None or because in str(e)
    return False


def accepted(fn, *args):
    """True if fn(*args) raises nothing; prints the reason otherwise with
    DAUYS_SHOW_REASONS."""
    try:
        fn(*args)
    except tlog.TlogError as e:
        if os.environ.get("DAUYS_SHOW_REASONS"):
            print(f"  refused: {e}")
        return False
    return True


def check_tlog_vectors(vectors):
    c = vectors["checkpoint"]
    v2 = vectors["format_2"]
    result = replay(v2["export"].encode())
    entries, g = result.entries, result.genesis
    origin = g["origin"]
    seeds = {k["name"]: bytes.fromhex(k["secret_seed"]) for k in v2["keys"]}
    publics = {k["name"]: bytes.fromhex(k["public"]) for k in v2["keys"]}

    # The tree.
    leaves = [tlog.leaf_hash(e) for e in entries]
    check("tlog vectors leaf hashes", [h.hex() for h in leaves] == c["leaf_hashes"],
          str([h.hex() for h in leaves]))
    root = tlog.tree_root(entries)
    check("tlog vectors root (hex)", root.hex() == c["root_hex"], root.hex())
    check("tlog vectors root (base64)", base64.b64encode(root).decode() == c["root"],
          base64.b64encode(root).decode())
    check("tlog vectors root = H(1 || H(1 || leaf0 || leaf1) || leaf2)",
          root == tlog.node_hash(tlog.node_hash(leaves[0], leaves[1]), leaves[2]), "")
    check("tlog empty tree root", tlog.tree_root([]).hex() == c["empty_tree_root_hex"]
          == hashlib.sha256(b"").hexdigest(), tlog.tree_root([]).hex())

    # Verifier keys.
    log_key = tlog.VerifierKey(origin, tlog.ED25519, publics["log"])
    check("tlog vectors log key is the genesis log key", g["log_key"] == publics["log"], g["log_key"].hex())
    check("tlog vectors log verifier key", str(log_key) == c["log_verifier_key"] == FORMAT_MD_LOG_KEY,
          str(log_key))
    check("tlog log verifier key parses back", tlog.parse_verifier_key(c["log_verifier_key"]) == log_key, "")
    witness_seed = bytes.fromhex(c["witness_seed"])
    witness = tlog.VerifierKey(WITNESS_NAME, tlog.COSIGNATURE_V1, public_key(witness_seed))
    check("tlog vectors witness verifier key", str(witness) == c["witness_verifier_key"], str(witness))
    check("tlog witness verifier key parses back",
          tlog.parse_verifier_key(c["witness_verifier_key"]) == witness, "")
    for bad in [c["log_verifier_key"].replace("a482fe66", "a482fe67"),  # id is not the key's
                c["log_verifier_key"].replace("a482fe66", "A482FE66"),  # uppercase id
                c["log_verifier_key"] + "=",  # 33 bytes take 44 characters, no padding
                c["log_verifier_key"].replace("+AQPj", "+AQPj\n"),  # not base64
                c["log_verifier_key"].replace("+AQPj", "+AgPj"),  # type 0x02 under type 0x01's id
                "+a482fe66+" + c["log_verifier_key"].split("+", 2)[2]]:  # empty name
        check(f"tlog verifier key {bad!r} refused", refused(tlog.parse_verifier_key, bad), "accepted")

    # The checkpoint and its signature.
    text = tlog.checkpoint_text(origin, 3, root)
    check("tlog vectors checkpoint text", text == c["checkpoint_text"].encode(), repr(text))
    cp = tlog.parse_checkpoint_text(c["checkpoint_text"].encode())
    check("tlog vectors checkpoint text parses", (cp.origin, cp.size, cp.root) == (origin, 3, root), str(cp))
    log_only = tlog.Policy(log_key)
    note = c["checkpoint_note"].encode()
    try:
        cp = tlog.verify_checkpoint(note, log_only)
        tlog.check_against_entries(cp, entries)
        ok, detail = cp.text == text, ""
    except tlog.TlogError as e:
        ok, detail = False, str(e)
    check("tlog vectors checkpoint note: the log's signature, the replayed root", ok, detail)
    check("tlog vectors checkpoint note is signed by the log seed",
          note == signed_checkpoint(text, origin, seeds["log"]), "")
    check("tlog checkpoint note with its log signature altered refused",
          refused(tlog.verify_checkpoint, alter_signature(note, origin), log_only), "accepted")
    check("tlog checkpoint note under another log key (same name) refused", refused(
        tlog.verify_checkpoint, note, tlog.Policy(tlog.VerifierKey(origin, tlog.ED25519, publics["commission"]))),
        "accepted")
    check("tlog checkpoint note signed by another key under the log's name and id refused",
          refused(tlog.verify_checkpoint, _forge_log_line(text, origin, log_key, seeds["commission"]), log_only),
          "accepted")
    check("tlog checkpoint note with only an unknown signature refused", refused(
        tlog.verify_checkpoint, text + b"\n" + sign_line(text, "other.example/log", tlog.ED25519, seeds["log"]),
        log_only), "accepted")
    check("tlog checkpoint note with an extra unknown signature line accepted", not refused(
        tlog.verify_checkpoint, note + sign_line(text, "other.example/log", tlog.ED25519, seeds["council"]),
        log_only), "refused")
    check("tlog checkpoint note with a line that is no signature line refused",
          refused(tlog.verify_checkpoint, note + b"- other.example/log AAAAAAA=\n", log_only), "accepted")
    check("tlog checkpoint note without its final LF refused",
          refused(tlog.verify_checkpoint, note[:-1], log_only), "accepted")

    # Checkpoints spelled otherwise, each signed by the log key (only the spelling is at fault).
    root_b64 = base64.b64encode(root)
    non_canonical = root_b64[:-2] + bytes([root_b64[-2] + 1]) + b"="  # same bytes, non-zero trailing bits
    assert base64.b64decode(non_canonical) == root
    for label, bad_text in [
        ("an extension line", text + b"extension\n"),
        ("a leading-zero size", b"%s\n03\n%s\n" % (origin.encode(), root_b64)),
        ("non-canonical base64 root", b"%s\n3\n%s\n" % (origin.encode(), non_canonical)),
        ("an unpadded root", b"%s\n3\n%s\n" % (origin.encode(), root_b64.rstrip(b"="))),
        ("a 31-byte root", b"%s\n3\n%s\n" % (origin.encode(), base64.b64encode(root[:31]))),
        ("a size with a sign", b"%s\n+3\n%s\n" % (origin.encode(), root_b64)),
        ("a size beyond u64", b"%s\n18446744073709551616\n%s\n" % (origin.encode(), root_b64)),
        ("two lines", b"%s\n3\n" % origin.encode()),
        ("a CRLF", b"%s\r\n3\n%s\n" % (origin.encode(), root_b64)),
    ]:
        bad_note = signed_checkpoint(bad_text, origin, seeds["log"])
        check(f"tlog checkpoint with {label} refused", refused(tlog.verify_checkpoint, bad_note, log_only),
              "accepted")
    other = signed_checkpoint(tlog.checkpoint_text("other.example/log", 3, root), "other.example/log",
                              seeds["log"])
    check("tlog checkpoint whose origin is not the log key's name refused",
          refused(tlog.verify_checkpoint, other, log_only), "accepted")

    # Against the replayed log: a prefix, a longer log, another history.
    def against_replay(size, tree):
        cp_ = tlog.verify_checkpoint(
            signed_checkpoint(tlog.checkpoint_text(origin, size, tree), origin, seeds["log"]), log_only)
        tlog.check_against_entries(cp_, entries)
    check("tlog checkpoint of size 2 against the replayed 3 entries accepted",
          not refused(against_replay, 2, tlog.tree_root(entries[:2])), "refused")
    check("tlog checkpoint of size 0 (SHA-256 of nothing) accepted",
          not refused(against_replay, 0, tlog.EMPTY_ROOT), "refused")
    check("tlog checkpoint of size 4 against 3 entries replayed refused",
          refused(against_replay, 4, root), "accepted")
    check("tlog checkpoint of size 3 with the root of size 2 refused (fork)",
          refused(against_replay, 3, tlog.tree_root(entries[:2])), "accepted")

    # Cosignatures and the witness policy.
    cosigned = c["cosigned_note"].encode()
    quorum_1 = tlog.Policy(log_key, [witness], 1)
    check("tlog vectors cosigned note, witness quorum 1", not refused(tlog.verify_checkpoint, cosigned, quorum_1),
          "refused")
    check("tlog vectors cosignature timestamp",
          tlog.cosignature_timestamps(cosigned, quorum_1) == {WITNESS_NAME: c["cosignature_timestamp"]}, "")
    check("tlog vectors cosignature is signed by the witness seed", cosigned == note + sign_line(
        text, WITNESS_NAME, tlog.COSIGNATURE_V1, witness_seed, c["cosignature_timestamp"]), "")
    check("tlog cosigned note with the cosignature altered refused (quorum 1)",
          refused(tlog.verify_checkpoint, alter_signature(cosigned, WITNESS_NAME), quorum_1), "accepted")
    check("tlog cosigned note with the timestamp altered refused (quorum 1)",
          refused(tlog.verify_checkpoint, alter_signature(cosigned, WITNESS_NAME, 11), quorum_1), "accepted")
    check("tlog cosigned note with the cosignature altered refused (quorum 0: a known key that fails)",
          refused(tlog.verify_checkpoint, alter_signature(cosigned, WITNESS_NAME),
                  tlog.Policy(log_key, [witness], 0)), "accepted")
    other_witness = tlog.VerifierKey(WITNESS_NAME, tlog.COSIGNATURE_V1,
                                     public_key(hashlib.sha256(b"another witness").digest()))
    check("tlog cosigned note under a different witness key refused (quorum 1)",
          refused(tlog.verify_checkpoint, cosigned, tlog.Policy(log_key, [other_witness], 1)), "accepted")
    check("tlog checkpoint without cosignature refused (quorum 1)",
          refused(tlog.verify_checkpoint, note, quorum_1), "accepted")
    check("tlog cosigned note under the log key alone accepted (the witness line is ignored)",
          not refused(tlog.verify_checkpoint, cosigned, log_only), "refused")
    check("tlog policy with quorum 2 of 1 witness refused", refused(tlog.Policy, log_key, [witness], 2), "accepted")
    # One witness key under a second name is one witness: its signature,
    # relabelled, must not count twice.
    alias = tlog.VerifierKey("alias.example/w", tlog.COSIGNATURE_V1, witness.key)
    check("tlog policy with one witness key under two names and quorum 2 refused",
          refused(tlog.Policy, log_key, [witness, alias], 2), "accepted")
    relabelled = cosigned + sign_line(text, "alias.example/w", tlog.COSIGNATURE_V1, witness_seed,
                                      c["cosignature_timestamp"])
    check("tlog one key's cosignature under two names counts once (quorum 1 met)",
          not refused(tlog.verify_checkpoint, relabelled, tlog.Policy(log_key, [witness, alias], 1)), "refused")
    check("tlog policy with the witness's key as the log key refused", refused(tlog.Policy, witness), "accepted")

    # The receipt of entry 2.
    receipt = c["receipt_entry_2"].encode()
    try:
        r, rcp, entry = tlog.verify_receipt(receipt, log_only)
        ok, detail = (r.index, rcp.size, rcp.root, r.extra, entry.position) == (2, 3, root, entries[2], 2), ""
        ok = ok and list(r.path) == tlog.inclusion_path(leaves, 2)
    except tlog.TlogError as e:
        ok, detail = False, str(e)
    check("tlog vectors receipt_entry_2 verifies (and is the path RFC 6962 builds)", ok, detail)
    head, extra, index, path_line = receipt.split(b"\n")[:4]
    rest = receipt.split(b"\n", 4)[4]
    def receipt_with(extra=extra, index=index, path=(path_line,), rest=rest):
        return b"\n".join([head, extra, index, *path, rest])
    assert receipt_with() == receipt
    altered_path = base64.b64encode(bytes([base64.b64decode(path_line[:44])[0] ^ 1]) +
                                    base64.b64decode(path_line)[1:])
    altered_entry = bytearray(entries[2])
    altered_entry[-1] ^= 1  # a bit of the author's signature
    for label, bad in [
        ("index 1", receipt_with(index=b"index 1")),
        ("index 3", receipt_with(index=b"index 3")),
        ("index 02", receipt_with(index=b"index 02")),
        ("a proof line altered", receipt_with(path=(altered_path,))),
        ("a proof line removed", receipt_with(path=())),
        ("a proof line added", receipt_with(path=(path_line, path_line))),
        ("the extra data altered", receipt_with(extra=b"extra " + base64.b64encode(bytes(altered_entry)))),
        ("the extra data of entry 1", receipt_with(extra=b"extra " + base64.b64encode(entries[1]))),
        ("no extra line", b"\n".join([head, index, path_line, rest])),
        ("another header", receipt.replace(b"tlog-proof@v1", b"tlog-proof@v2")),
        ("the checkpoint's signature altered", receipt_with(rest=alter_signature(rest, origin))),
    ]:
        check(f"tlog receipt with {label} refused", refused(tlog.verify_receipt, bad, log_only), "accepted")
    check("tlog receipt refused under a witness quorum it lacks",
          refused(tlog.verify_receipt, receipt, quorum_1), "accepted")
    cosigned_receipt = receipt_with(rest=b"\n" + cosigned)
    check("tlog receipt with the cosigned checkpoint verifies under the witness quorum",
          not refused(tlog.verify_receipt, cosigned_receipt, quorum_1), "refused")
    return log_key, witness, seeds, entries


def raw_line(name, raw):
    """A signature line `— name base64(raw)`, raw being key id || anything."""
    return "\u2014 %s ".encode() % name.encode() + base64.b64encode(raw) + b"\n"


def make_receipt(extra, index, path, note):
    """The receipt text of section 14 (extra given as bytes, or None for no
    extra line)."""
    lines = [b"c2sp.org/tlog-proof@v1"]
    if extra is not None:
        lines.append(b"extra " + base64.b64encode(extra))
    lines.append(b"index %d" % index)
    lines += [base64.b64encode(h) for h in path]
    return b"\n".join(lines) + b"\n\n" + note


def check_exact_rules(vectors, log_key, witness, seeds, entries):
    """Section 14, "Exact rules for verifiers": one or more cases per rule,
    each refusal checked for its reason."""
    c = vectors["checkpoint"]
    origin = log_key.name
    root = tlog.tree_root(entries)
    text = tlog.checkpoint_text(origin, 3, root)
    note = c["checkpoint_note"].encode()
    cosigned = c["cosigned_note"].encode()
    witness_seed = bytes.fromhex(c["witness_seed"])
    log_only = tlog.Policy(log_key)
    quorum_1 = tlog.Policy(log_key, [witness], 1)
    vc = tlog.verify_checkpoint
    log_sig = base64.b64decode(note.split(b" ")[-1])  # key id || signature
    bad_sig = log_sig[:-1] + bytes([log_sig[-1] ^ 1])

    # Rule: "Of several known lines with the same name and key id, only the
    # first is checked; the others are ignored. A known line that does not
    # verify (including a signature of the wrong length) rejects the note."
    check("exact rules: a valid log line, then an invalid one under the same name and key id, accepted",
          accepted(vc, note + raw_line(origin, bad_sig), log_only), "refused")
    check("exact rules: a valid log line, then one of the wrong length under the same name and key id, accepted",
          accepted(vc, note + raw_line(origin, log_key.id + b"\x00" * 10), log_only), "refused")
    check("exact rules: an invalid log line, then the valid one, refused",
          refused(vc, text + b"\n" + raw_line(origin, bad_sig) + raw_line(origin, log_sig), log_only,
                  because="log's signature"), "accepted")
    check("exact rules: a log line of the wrong length (65 bytes) first, refused",
          refused(vc, text + b"\n" + raw_line(origin, log_sig + b"\x00") + raw_line(origin, log_sig), log_only,
                  because="log's signature"), "accepted")
    check("exact rules: the log line three times accepted", accepted(vc, note + raw_line(origin, log_sig) * 2,
                                                                     log_only), "refused")
    # Unknown lines: the log's name with another key id, the log's key id under another name.
    check("exact rules: a line with the log's name and another key id is unknown (ignored)",
          accepted(vc, note + raw_line(origin, b"\x00\x00\x00\x00" + bad_sig[4:]), log_only), "refused")
    check("exact rules: a line with the log's key id and another name is unknown (ignored)",
          accepted(vc, note + raw_line("other.example/log", bad_sig), log_only), "refused")
    check("exact rules: only lines with the log's name and another key id refused (no log signature)",
          refused(vc, text + b"\n" + raw_line(origin, b"\x00\x00\x00\x00" + log_sig[4:]), log_only,
                  because="no signature by the log key"), "accepted")

    # The same for a witness.
    w_line = cosigned[len(note):]
    w_raw = base64.b64decode(w_line.split(b" ")[-1])
    w_bad = w_raw[:-1] + bytes([w_raw[-1] ^ 1])
    check("exact rules: a valid cosignature, then an invalid one of the same witness, accepted (quorum 1)",
          accepted(vc, cosigned + raw_line(WITNESS_NAME, w_bad), quorum_1), "refused")
    check("exact rules: an invalid cosignature, then the valid one, refused (quorum 1)",
          refused(vc, note + raw_line(WITNESS_NAME, w_bad) + w_line, quorum_1, because="cosignature"), "accepted")
    check("exact rules: an invalid cosignature, then the valid one, refused (quorum 0: a known line fails)",
          refused(vc, note + raw_line(WITNESS_NAME, w_bad) + w_line, tlog.Policy(log_key, [witness], 0),
                  because="cosignature"), "accepted")
    check("exact rules: a cosignature without its timestamp (68 bytes) refused (quorum 0)",
          refused(vc, note + raw_line(WITNESS_NAME, w_raw[:4] + w_raw[12:]), tlog.Policy(log_key, [witness], 0),
                  because="cosignature"), "accepted")

    # Rule: "A witness listed twice, or with several lines, counts once toward
    # the quorum", and "a quorum above the number of distinct witness keys is
    # refused".
    seed2 = hashlib.sha256(b"witness two").digest()
    witness2 = tlog.VerifierKey("witness.example/w2", tlog.COSIGNATURE_V1, public_key(seed2))
    second_line = sign_line(text, WITNESS_NAME, tlog.COSIGNATURE_V1, witness_seed, c["cosignature_timestamp"] + 1)
    w2_line = sign_line(text, witness2.name, tlog.COSIGNATURE_V1, seed2, 1_700_000_000)
    two_of_two = tlog.Policy(log_key, [witness, witness2], 2)
    check("exact rules: two witnesses cosigning, quorum 2 of 2, accepted", accepted(vc, cosigned + w2_line, two_of_two),
          "refused")
    check("exact rules: one witness with two valid lines counts once (quorum 2 of 2 refused)",
          refused(vc, cosigned + second_line, two_of_two, because="quorum 2"), "accepted")
    check("exact rules: one witness with two valid lines, quorum 1 of 2, accepted",
          accepted(vc, cosigned + second_line, tlog.Policy(log_key, [witness, witness2], 1)), "refused")
    check("exact rules: a witness listed twice, quorum 1, accepted",
          accepted(vc, cosigned, tlog.Policy(log_key, [witness, witness], 1)), "refused")
    check("exact rules: a witness listed twice counts once (quorum 2 refused as a policy)",
          refused(tlog.Policy, log_key, [witness, witness], 2, because="quorum 2 of 1"), "accepted")
    check("exact rules: a witness listed twice plus another, quorum 2 of 2 distinct, accepted",
          accepted(vc, cosigned + w2_line, tlog.Policy(log_key, [witness, witness2, witness], 2)), "refused")
    check("exact rules: quorum 3 of 2 distinct witness keys refused",
          refused(tlog.Policy, log_key, [witness, witness2, witness], 3, because="quorum 3 of 2"), "accepted")
    check("exact rules: quorum 1 without witnesses refused",
          refused(tlog.Policy, log_key, [], 1, because="quorum 1 of 0"), "accepted")
    check("exact rules: a negative quorum refused", refused(tlog.Policy, log_key, [witness], -1), "accepted")

    # Rule: "A cosignature whose timestamp exceeds 2^63 - 1 does not verify.
    # Timestamps are not compared with any clock."
    for ts, ok in [(0, True), (2**63 - 1, True), (2**63, False), (2**64 - 1, False)]:
        line = sign_line(text, WITNESS_NAME, tlog.COSIGNATURE_V1, witness_seed, ts)
        for q in (0, 1):
            policy = tlog.Policy(log_key, [witness], q)
            got = accepted(vc, note + line, policy) if ok else refused(vc, note + line, policy, because="cosignature")
            check(f"exact rules: a cosignature at timestamp {ts} {'accepted' if ok else 'refused'} (quorum {q})",
                  got, "")

    # Rule: "A signed note is UTF-8 with no control character but LF, at most
    # 1,000,000 bytes, and at most 100 signature lines."
    unknown = [sign_line(text, f"u{i}.example/log", tlog.ED25519, seeds["council"]) for i in range(100)]
    check("exact rules: a note with 100 signature lines (the log's and 99 unknown) accepted",
          accepted(vc, note + b"".join(unknown[:99]), log_only), "refused")
    check("exact rules: a note with 101 signature lines (the log's and 100 unknown) refused",
          refused(vc, note + b"".join(unknown), log_only, because="more than 100"), "accepted")
    check("exact rules: a note with the log's line 101 times refused",
          refused(vc, note + raw_line(origin, log_sig) * 100, log_only, because="more than 100"), "accepted")
    check("exact rules: a note with the log's line 100 times accepted",
          accepted(vc, note + raw_line(origin, log_sig) * 99, log_only), "refused")

    def big_note(size):
        """The note plus one unknown line, `size` bytes in all."""
        room = size - len(note) - len("\u2014 ".encode()) - 2  # the space after the name, the LF
        b64_len = (room - 20) // 4 * 4
        line = raw_line("big.example/" + "x" * (room - b64_len - 12), b"\x01" * (b64_len // 4 * 3))
        out = note + line
        assert len(out) == size, (len(out), size)
        return out
    check("exact rules: a note of exactly 1,000,000 bytes accepted", accepted(vc, big_note(1_000_000), log_only),
          "refused")
    check("exact rules: a note of 1,000,001 bytes refused",
          refused(vc, big_note(1_000_001), log_only, because="more than 1000000"), "accepted")
    for label, extra_line in [
        ("a tab in an unknown line", "\u2014 a\tb AAAAAAA=\n".encode()),
        ("a NUL in an unknown name", "\u2014 a\x00b AAAAAAA=\n".encode()),
        ("a CR before the LF", raw_line("other.example/log", bad_sig)[:-1] + b"\r\n"),
    ]:
        check(f"exact rules: a note with {label} refused",
              refused(vc, note + extra_line, log_only, because="control character"), "accepted")
    check("exact rules: a note that is not UTF-8 refused",
          refused(vc, note + b"\xe2\x80 x AAAAAAA=\n", log_only, because="not UTF-8"), "accepted")
    # Assumption (tlog.parse_note): control characters are signed-note's, below U+0020.
    check("exact rules: DEL and U+0085 in an unknown line's name accepted (signed-note's control characters)",
          accepted(vc, note + raw_line("a\x7fb\u0080c", bad_sig), log_only), "refused")
    # "Each signature line is `— `, a name (non-empty, no whitespace, no `+`),
    # one space, and base64 of at least 5 bytes ..., ended by LF."
    for label, extra_line in [
        ("an empty name", raw_line("", bad_sig)),
        ("a name with U+00A0", raw_line("a\u00a0b", bad_sig)),
        ("a name with U+3000", raw_line("a\u3000b", bad_sig)),
        ("a name with +", raw_line("a+b", bad_sig)),
        ("two spaces after the name", raw_line("a", bad_sig).replace(b"a ", b"a  ")),
        ("no base64", "\u2014 other.example/log\n".encode()),
        ("base64 of 4 bytes", raw_line("other.example/log", b"abcd")),
        ("unpadded base64", raw_line("other.example/log", bad_sig).replace(b"=", b"")),
        ("a hyphen for the em dash", raw_line("other.example/log", bad_sig).replace("\u2014".encode(), b"-")),
        ("an en dash for the em dash", raw_line("other.example/log", bad_sig).replace("\u2014".encode(),
                                                                                       "\u2013".encode())),
    ]:
        check(f"exact rules: an unknown signature line with {label} refused (malformed note)",
              refused(vc, note + extra_line, log_only, because="note:"), "accepted")
    check("exact rules: base64 of 5 bytes in an unknown line accepted",
          accepted(vc, note + raw_line("other.example/log", b"abcde"), log_only), "refused")
    check("exact rules: a note with an empty line in its text refused (the text ends at the last empty line)",
          refused(vc, text + b"\n" + raw_line(origin, log_sig) + b"\n" + raw_line(origin, log_sig), log_only),
          "accepted")

    # Rule: "A verifier key is `name+id+key`: ... the id exactly 8 lowercase
    # hex digits equal to the key id computed from the name, type and key, the
    # key base64 of the type byte and 32 bytes."
    lk = c["log_verifier_key"]
    name_, hex_id, b64 = lk.split("+", 2)
    for label, bad in [
        ("an uppercase id", f"{name_}+{hex_id.upper()}+{b64}"),
        ("a mixed-case id", f"{name_}+a482FE66+{b64}"),
        ("a 7-digit id", f"{name_}+{hex_id[:7]}+{b64}"),
        ("a 9-digit id", f"{name_}+0{hex_id}+{b64}"),
        ("a 0x-prefixed id", f"{name_}+0x{hex_id}+{b64}"),
        ("an id in full-width digits", f"{name_}+" + hex_id.replace("4", "\uff14") + f"+{b64}"),
        ("a name with a space", f"vectors example/ledger+{hex_id}+{b64}"),
        ("a name with U+00A0", f"vectors\u00a0example/ledger+{hex_id}+{b64}"),
        ("no type byte (32 bytes)", f"{name_}+{hex_id}+" + base64.b64encode(log_key.key).decode()),
        ("34 bytes", f"{name_}+{hex_id}+" + base64.b64encode(b"\x01" + log_key.key + b"\x00").decode()),
        ("no key", f"{name_}+{hex_id}+"),
        ("no id", f"{name_}++{b64}"),
        ("the witness key under the log key's id", f"{name_}+{hex_id}+" + base64.b64encode(
            b"\x04" + log_key.key).decode()),
    ]:
        check(f"exact rules: a verifier key with {label} refused", refused(tlog.parse_verifier_key, bad), "accepted")
    # "Log keys are type 0x01, witness keys type 0x04; a policy with a log key
    # of another type, a witness key of another type ... is refused."
    as_type = {t: tlog.parse_verifier_key(tlog.verifier_key(origin, t, log_key.key)) for t in (0x01, 0x02, 0x04)}
    check("exact rules: a verifier key of type 0x02 parses (its id computed with 0x02)",
          as_type[0x02].type == 0x02, str(as_type[0x02]))
    for t in (0x02, 0x04):
        check(f"exact rules: a policy with a log key of type 0x{t:02x} refused",
              refused(tlog.Policy, as_type[t], because="log key"), "accepted")
    w_as_type = {t: tlog.VerifierKey(WITNESS_NAME, t, witness.key) for t in (0x01, 0x02)}
    for t, k in w_as_type.items():
        check(f"exact rules: a policy with a witness key of type 0x{t:02x} refused",
              refused(tlog.Policy, log_key, [k], 0, because="witness key"), "accepted")

    # Receipts: "the `extra` bytes decode as an entry (section 2) whose
    # `position` equals `index`, `index` is below the checkpoint's size, and
    # the inclusion path ... leads to the checkpoint's root. The `extra` line
    # is required here; at most 63 path lines; any other spelling is
    # malformed."
    def log_note(leaves_bytes):
        size = len(leaves_bytes)
        return signed_checkpoint(tlog.checkpoint_text(origin, size, tlog.tree_root(leaves_bytes)), origin,
                                 seeds["log"])
    vr = tlog.verify_receipt
    check("exact rules: a receipt for entry 0 in a tree of 1 leaf accepted",
          accepted(vr, make_receipt(entries[0], 0, [], log_note(entries[:1])), log_only), "refused")
    check("exact rules: a receipt whose entry's position (1) is not the index (0) refused, its path valid",
          refused(vr, make_receipt(entries[1], 0, [], log_note(entries[1:2])), log_only,
                  because="position is not the index"), "accepted")
    check("exact rules: a receipt whose extra is not an entry refused, its path valid",
          refused(vr, make_receipt(b"not an entry", 0, [], log_note([b"not an entry"])), log_only,
                  because="not an entry"), "accepted")
    check("exact rules: a receipt with an empty extra refused",
          refused(vr, make_receipt(b"", 0, [], log_note([b""])), log_only, because="not an entry"), "accepted")
    check("exact rules: a receipt for entry 2 against a checkpoint of size 2 refused (index not below the size)",
          refused(vr, make_receipt(entries[2], 2, [], log_note(entries[:2])), log_only, because="not below"),
          "accepted")
    leaves = [tlog.leaf_hash(e) for e in entries]
    good = make_receipt(entries[1], 1, tlog.inclusion_path(leaves, 1), note)
    check("exact rules: the receipt of entry 1, built here, accepted", accepted(vr, good, log_only), "refused")
    check("exact rules: a receipt without its extra line refused",
          refused(vr, make_receipt(None, 1, tlog.inclusion_path(leaves, 1), note), log_only, because="extra"),
          "accepted")
    for label, bad in [
        ("'Extra'", good.replace(b"\nextra ", b"\nExtra ")),
        ("two spaces after extra", good.replace(b"\nextra ", b"\nextra  ")),
        ("unpadded extra", good.replace(b"extra " + base64.b64encode(entries[1]),
                                        b"extra " + base64.b64encode(entries[1]).rstrip(b"="))),
        ("a CR after index", good.replace(b"index 1\n", b"index 1\r\n")),
        ("index beyond u64", good.replace(b"index 1\n", b"index 18446744073709551617\n")),
        ("index -1", good.replace(b"index 1\n", b"index -1\n")),
        ("index and extra swapped", good.replace(b"extra ", b"EXTRA ").replace(b"index 1", b"extra x")),
        ("no empty line before the checkpoint", good.replace(b"\n\n" + note, b"\n" + note)),
    ]:
        check(f"exact rules: a receipt with {label} refused", refused(vr, bad, log_only), "accepted")
    path_b64 = base64.b64encode(tlog.inclusion_path(leaves, 1)[0])
    check("exact rules: a receipt with a trailing space on a path line refused",
          refused(vr, good.replace(path_b64, path_b64 + b" "), log_only), "accepted")
    h = leaves[0]
    check("exact rules: a receipt with 63 path lines parses",
          not refused(tlog.parse_receipt, make_receipt(entries[0], 0, [h] * 63, note)), "refused")
    check("exact rules: a receipt with 64 path lines refused",
          refused(tlog.parse_receipt, make_receipt(entries[0], 0, [h] * 64, note), because="63"), "accepted")
    check("exact rules: a receipt whose note has 101 signature lines refused",
          refused(vr, good + b"".join(unknown), log_only, because="more than 100"), "accepted")
    check("exact rules: a receipt whose note repeats the log line with a bad signature accepted",
          accepted(vr, good + raw_line(origin, bad_sig), log_only), "refused")

    # Rule: "Consistency from size 0 needs an empty proof and the old root
    # SHA-256(""); between equal sizes, an empty proof and equal roots; else
    # RFC 9162 section 2.1.4.2."
    E, r = tlog.EMPTY_ROOT, [tlog.mth(leaves[:n]) for n in range(4)]
    vcons = tlog.verify_consistency
    for label, args, want in [
        ("0 to 0, empty proof, empty roots", (0, 0, [], E, E), True),
        ("0 to 0, another root on both sides (assumption: both rules apply)", (0, 0, [], r[1], r[1]), False),
        ("0 to 0, a non-empty proof", (0, 0, [E], E, E), False),
        ("0 to 3, empty proof", (0, 3, [], E, r[3]), True),
        ("0 to 3, a non-empty proof", (0, 3, [r[3]], E, r[3]), False),
        ("0 to 3, an old root other than SHA-256(\"\")", (0, 3, [], r[1], r[3]), False),
        ("0 to 3, 32 zero bytes for the old root (Go's TreeHash(0))", (0, 3, [], bytes(32), r[3]), False),
        ("3 to 3, empty proof, equal roots", (3, 3, [], r[3], r[3]), True),
        ("3 to 3, a non-empty proof", (3, 3, [r[3]], r[3], r[3]), False),
        ("3 to 3, different roots", (3, 3, [], r[3], r[2]), False),
        ("2 to 3, an empty proof", (2, 3, [], r[2], r[3]), False),
        ("2 to 3, the RFC 6962 proof", (2, 3, tlog.consistency_path(leaves, 2), r[2], r[3]), True),
        ("1 to 3, the RFC 6962 proof", (1, 3, tlog.consistency_path(leaves, 1), r[1], r[3]), True),
        ("3 to 2", (3, 2, tlog.consistency_path(leaves, 2), r[3], r[2]), False),
    ]:
        check(f"exact rules: consistency {label} {'holds' if want else 'fails'}", vcons(*args) == want, "")

    # Rule: "The 'checkpoints seen' rule applies to the checkpoint a log
    # presents as its latest. An older checkpoint, like one in a receipt, is
    # checked by a consistency proof to the latest, never against the
    # checkpoints seen."
    seen = tlog.CheckpointsSeen()
    n1, n2, n3 = log_note(entries[:1]), log_note(entries[:2]), note
    check("exact rules: seen: a first latest checkpoint (size 2) kept",
          accepted(seen.present_latest, n2, log_only) and seen.get(log_key).size == 2, "")
    check("exact rules: seen: a latest of size 3 with the proof from 2 kept",
          accepted(seen.present_latest, n3, log_only, tlog.consistency_path(leaves, 2))
          and seen.get(log_key).size == 3, "")
    check("exact rules: seen: the same latest again (empty proof) accepted",
          accepted(seen.present_latest, n3, log_only, []), "refused")
    check("exact rules: seen: a smaller latest (size 1) refused",
          refused(seen.present_latest, n1, log_only, tlog.consistency_path(leaves, 1), because="smaller"),
          "accepted")
    other_history = list(entries[:2]) + [entries[0]]
    fork = log_note(other_history)
    check("exact rules: seen: a latest of size 3 with another root refused (fork)",
          refused(seen.present_latest, fork, log_only, [], because="fork"), "accepted")
    check("exact rules: seen: a receipt's checkpoint of size 1 verifies, whatever was seen",
          accepted(vr, make_receipt(entries[0], 0, [], n1), log_only), "refused")
    cp1, cp3 = tlog.verify_checkpoint(n1, log_only), seen.get(log_key)
    check("exact rules: an older checkpoint (size 1) checked by a consistency proof to the latest",
          accepted(tlog.check_older, cp1, cp3, tlog.consistency_path(leaves, 1)), "refused")
    check("exact rules: an older checkpoint of another history refused (fork)",
          refused(tlog.check_older, tlog.verify_checkpoint(log_note([entries[1]]), log_only), cp3,
                  tlog.consistency_path(leaves, 1), because="fork"), "accepted")
    check("exact rules: seen: still size 3 after the older checkpoints", seen.get(log_key).size == 3, "")
    cp2 = tlog.verify_checkpoint(n2, log_only)
    check("exact rules: a receipt's checkpoint newer than the latest (3 vs 2) checked by the proof from 2 to 3"
          " (assumption)", accepted(tlog.check_older, cp3, cp2, tlog.consistency_path(leaves, 2)), "refused")
    other_log = tlog.VerifierKey(origin, tlog.ED25519, public_key(seeds["commission"]))
    other_note = signed_checkpoint(tlog.checkpoint_text(origin, 1, tlog.tree_root(entries[:1])), origin,
                                   seeds["commission"])
    check("exact rules: seen is per log (origin and key): another key's size 1 after this key's size 3 kept",
          accepted(seen.present_latest, other_note, tlog.Policy(other_log))
          and seen.get(other_log).size == 1 and seen.get(log_key).size == 3, "")


def _forge_log_line(text, origin, log_key, seed):
    """A note whose line carries the log's name and key id but a signature by
    another key: a known key whose signature fails."""
    sig = nacl.signing.SigningKey(seed).sign(text).signature
    return text + b"\n" + "\u2014 %s ".encode() % origin.encode() + base64.b64encode(log_key.id + sig) + b"\n"


def check_proofs():
    """RFC 6962 proofs over every prefix of fixtures/v2/valid: each inclusion
    path (PATH) and consistency proof (PROOF) built by the RFC 6962
    definitions verifies under the RFC 9162 algorithms, and an altered one
    (one hash flipped, dropped or added, another index, another tree) does
    not. (A path alone does not bind the size: the path of leaf i in a tree
    of n leaves also leads to the same root with size n + 1 when i is in the
    left perfect subtree; the signed checkpoint binds size and root.)"""
    with open(os.path.join(ROOT, "v2", "valid.jsonl"), "rb") as f:
        leaves = [tlog.leaf_hash(e) for e in replay(f.read()).entries]
    roots = [tlog.mth(leaves[:n]) for n in range(len(leaves) + 1)]

    def flip(path, i):
        return path[:i] + [bytes([path[i][0] ^ 1]) + path[i][1:]] + path[i + 1:]

    good = bad_accepted = 0
    for n in range(1, len(leaves) + 1):
        for i in range(n):
            path = tlog.inclusion_path(leaves[:n], i)
            good += tlog.verify_inclusion(leaves[i], i, n, path, roots[n])
            wrong = [flip(path, j) for j in range(len(path))] + [path[:-1], path + [leaves[0]]] if path else []
            bad_accepted += sum(tlog.verify_inclusion(leaves[i], i, n, p, roots[n]) for p in wrong)
            bad_accepted += tlog.verify_inclusion(leaves[i], (i + 1) % n, n, path, roots[n]) and n > 1
            if n < len(leaves):  # the same path does not reach the next tree's root
                bad_accepted += tlog.verify_inclusion(leaves[i], i, n + 1, path, roots[n + 1])
    total = len(leaves) * (len(leaves) + 1) // 2
    check(f"tlog {total} inclusion paths over the prefixes of v2/valid verify", good == total, f"{good} verified")
    check("tlog altered inclusion paths refused", bad_accepted == 0, f"{bad_accepted} accepted")

    good = bad_accepted = 0
    for n in range(1, len(leaves) + 1):
        for m in range(1, n + 1):
            proof = tlog.consistency_path(leaves[:n], m)
            good += tlog.verify_consistency(m, n, proof, roots[m], roots[n])
            wrong = [flip(proof, j) for j in range(len(proof))] + ([proof[:-1]] if proof else [])
            bad_accepted += sum(tlog.verify_consistency(m, n, p, roots[m], roots[n]) for p in wrong)
            if m < n:
                bad_accepted += tlog.verify_consistency(m, n, proof, roots[m - 1], roots[n])
                bad_accepted += tlog.verify_consistency(m, n, proof, roots[m], roots[n - 1])
                bad_accepted += tlog.verify_consistency(n, m, proof, roots[n], roots[m])
    total = len(leaves) * (len(leaves) + 1) // 2
    check(f"tlog {total} consistency proofs between the prefixes of v2/valid verify", good == total,
          f"{good} verified")
    check("tlog altered consistency proofs refused", bad_accepted == 0, f"{bad_accepted} accepted")
    check("tlog consistency from the empty tree", tlog.verify_consistency(0, 5, [], tlog.EMPTY_ROOT, roots[5]), "")

    # check_extends: a kept checkpoint and a later one.
    def cp(n, tree=None):
        return tlog.Checkpoint("o", n, roots[n] if tree is None else tree, b"")
    check("tlog a later checkpoint extends the kept one",
          not refused(tlog.check_extends, cp(20), cp(53), tlog.consistency_path(leaves, 20)), "refused")
    check("tlog a smaller later checkpoint refused",
          refused(tlog.check_extends, cp(53), cp(20), tlog.consistency_path(leaves, 20)), "accepted")
    check("tlog a later checkpoint of another history refused (fork)",
          refused(tlog.check_extends, cp(20), cp(53, roots[52]), tlog.consistency_path(leaves, 20)), "accepted")


def check_command_line(vectors, log_key, witness, seeds, entries):
    """verify.py as a command: the root, --checkpoint, --witness, --quorum, receipt."""
    c = vectors["checkpoint"]
    origin = log_key.name
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, data):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
            return path

        def run(*args):
            p = subprocess.run([sys.executable, os.path.join(HERE, "verify.py"), *args],
                               capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr

        ledger = write("ledger.jsonl", vectors["format_2"]["export"])
        size_4 = signed_checkpoint(tlog.checkpoint_text(origin, 4, tlog.tree_root(entries)), origin, seeds["log"])
        size_2 = signed_checkpoint(tlog.checkpoint_text(origin, 2, tlog.tree_root(entries[:2])), origin,
                                   seeds["log"])
        w = ["--witness", c["witness_verifier_key"]]
        cases = [
            ("ledger", [ledger], 0, "valid 3 %s %s" % (vectors["format_2"]["ledger"][2]["entry_sha256"], c["root"])),
            ("ledger --checkpoint", [ledger, "--checkpoint", write("cp", c["checkpoint_note"])], 0, "checkpoint ok"),
            ("ledger --checkpoint of size 2", [ledger, "--checkpoint", write("cp2", size_2)], 0, "checkpoint ok"),
            ("ledger --checkpoint of size 4", [ledger, "--checkpoint", write("cp4", size_4)], 1,
             "invalid checkpoint: checkpoint refused: the checkpoint names 4 entries", "valid 3"),
            ("ledger --checkpoint of size 3, another root",
             [ledger, "--checkpoint", write("cpf", signed_checkpoint(
                 tlog.checkpoint_text(origin, 3, tlog.tree_root(entries[:2] + entries[:1])), origin, seeds["log"]))],
             1, "invalid checkpoint: checkpoint refused: the root is not the tree", "valid 3"),
            ("invalid ledger --checkpoint: the ledger's verdict, the checkpoint not checked",
             [os.path.join(ROOT, "v2", "tampered", "broken_link.jsonl"), "--checkpoint", write("cp", c["checkpoint_note"])],
             1, "invalid 12 broken_link", "checkpoint"),
            ("ledger --checkpoint, the log line twice (the second altered)",
             [ledger, "--checkpoint", write("cpdup", c["checkpoint_note"] + alter_signature(
                 c["checkpoint_note"].encode(), origin).split(b"\n\n")[1].decode())], 0, "checkpoint ok"),
            ("ledger --checkpoint --witness twice (default quorum: 1 distinct)",
             [ledger, "--checkpoint", write("cosigned", c["cosigned_note"]), *w, *w], 0, "checkpoint ok"),
            ("ledger --checkpoint --witness twice --quorum 2 (a usage error)",
             [ledger, "--checkpoint", write("cosigned", c["cosigned_note"]), *w, *w, "--quorum", "2"], 2,
             "quorum 2 of 1"),
            ("ledger --checkpoint --witness --quorum 1",
             [ledger, "--checkpoint", write("cosigned", c["cosigned_note"]), *w, "--quorum", "1"], 0, "checkpoint ok"),
            ("ledger --checkpoint --witness (uncosigned)",
             [ledger, "--checkpoint", write("cp", c["checkpoint_note"]), *w, "--quorum", "1"], 1,
             "invalid checkpoint: checkpoint refused", "valid 3"),
            ("format 1 ledger --checkpoint",
             [os.path.join(ROOT, "valid.jsonl"), "--checkpoint", write("cp", c["checkpoint_note"])], 1, "format 1"),
            ("receipt", ["receipt", write("receipt", c["receipt_entry_2"]), "--log-key", str(log_key)], 0,
             "receipt ok: entry 2"),
            ("receipt --witness --quorum 1",
             ["receipt", write("receipt", c["receipt_entry_2"]), "--log-key", str(log_key), *w, "--quorum", "1"], 1,
             "refused"),
            ("receipt with index 1",
             ["receipt", write("receipt1", c["receipt_entry_2"].replace("index 2", "index 1")),
              "--log-key", str(log_key)], 1, "refused"),
            ("receipt under the witness's key as log key",
             ["receipt", write("receipt", c["receipt_entry_2"]), "--log-key", c["witness_verifier_key"]], 2, ""),
        ]
        for label, args, want_rc, want_text, *absent in cases:
            rc, out = run(*args)
            check(f"command line: {label}", rc == want_rc and want_text in out and not any(a in out for a in absent),
                  f"exit {rc}: {out.strip()}")


# --------------------------------------------------------------------------
# Section 15: format 3 (secret referendums)

# RFC 9496 Appendix A.1: the encodings of [0]G .. [15]G.
RFC9496_MULTIPLES = """
0000000000000000000000000000000000000000000000000000000000000000
e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76
6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919
94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259
da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57
e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e
f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403
44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d
903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c
02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031
20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f
bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42
e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460
aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f
46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e
e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e
""".split()

# RFC 9496 Appendix A.2: encodings every decoder refuses (non-canonical field
# elements, negative field elements, non-square x^2, negative x*y, s = -1).
RFC9496_BAD_ENCODINGS = """
00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
0100000000000000000000000000000000000000000000000000000000000000
01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20
c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562
c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78
47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24
f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72
87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309
26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371
4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f
de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b
bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042
2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08
f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22
8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731
2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b
3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e
a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220
d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e
8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32
32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b
227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165
5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e
445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b
ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
""".split()


def check_keccak_merlin(m):
    """Keccak-f[1600] (through SHA3-256 of "" and "abc", against hashlib),
    Merlin's published test vector, and vectors.json's merlin transcript."""
    for msg in (b"", b"abc"):
        st = bytearray(200)
        st[:len(msg)] = msg
        st[len(msg)] ^= 0x06
        st[135] ^= 0x80
        merlin.keccak_f1600(st)
        check(f"keccak-f[1600]: SHA3-256({msg!r})", bytes(st[:32]) == hashlib.sha3_256(msg).digest(), st[:32].hex())
    t = merlin.Transcript(b"test protocol")
    t.append_message(b"some label", b"some data")
    got = t.challenge_bytes(b"challenge", 32).hex()
    check("merlin: published test vector (test protocol / some label / challenge)",
          got == "d5a21972d0d5fe320c0d263fac7fffb8145aa640af6e9bca177c03c7efcf0615", got)
    t = None
    for op in m["ops"]:
        if op["op"] == "new":
            t = merlin.Transcript(op["label"].encode())
        elif op["op"] == "append_message":
            t.append_message(op["label"].encode(), bytes.fromhex(op["message_hex"]))
        elif op["op"] == "append_u64":
            t.append_u64(op["label"].encode(), op["value"])
        elif op["op"] == "challenge_bytes":
            got = t.challenge_bytes(op["label"].encode(), op["length"]).hex()
        else:
            check(f"merlin vector: known op {op['op']}", False, str(op))
    check("vectors secret_format_3 merlin: challenge", got == m["challenge_hex"], got)
    t1 = merlin.Transcript(b"x")
    t2 = t1.clone()
    t1.append_message(b"a", b"1")
    check("merlin: clone() copies the state, not a reference",
          t1.challenge_bytes(b"c", 8) != t2.challenge_bytes(b"c", 8), "")


def check_ristretto():
    """RFC 9496 Appendix A, and the identity and zero-scalar edge cases."""
    acc = r255.IDENTITY
    for i, h in enumerate(RFC9496_MULTIPLES):
        pt = r255.decode(bytes.fromhex(h))
        ok = (pt is not None and r255.encode(pt).hex() == h and r255.encode(r255.mul_base(i)).hex() == h
              and r255.encode(r255.mul(i, r255.G)).hex() == h and r255.encode(acc).hex() == h
              and r255.equal(pt, acc))
        check(f"ristretto255 RFC 9496 A.1 [{i}]G", ok, h)
        acc = r255.add(acc, r255.G)
    bad_accepted = [h for h in RFC9496_BAD_ENCODINGS if r255.decode(bytes.fromhex(h)) is not None]
    check(f"ristretto255 RFC 9496 A.2: {len(RFC9496_BAD_ENCODINGS)} bad encodings refused", not bad_accepted,
          str(bad_accepted))
    g = r255.G
    zero = bytes(32)
    check("ristretto255 identity: [0]G, [L]G, [0]P, [k]0, P - P, 0 + P",
          r255.encode(r255.mul_base(0)) == zero and r255.encode(r255.mul_base(r255.L)) == zero
          and r255.encode(r255.mul(0, g)) == zero and r255.encode(r255.mul(12345, r255.IDENTITY)) == zero
          and r255.encode(r255.sub(g, g)) == zero and r255.encode(r255.add(r255.IDENTITY, g)) == r255.G_BYTES
          and r255.encode(r255.mul(r255.L - 1, g)) == r255.encode(r255.neg(g)), "")
    check("scalars: L - 1 canonical, L and 2^256 - 1 not",
          secret.scalar((r255.L - 1).to_bytes(32, "little")) == r255.L - 1
          and secret.scalar(r255.L.to_bytes(32, "little")) is None and secret.scalar(b"\xff" * 32) is None, "")
    # An independent cross-check against the system's libsodium (>= 1.0.18),
    # when one is installed; PyNaCl does not expose these functions.
    sodium = _system_libsodium()
    if sodium is None:
        print("(no system libsodium with ristretto255: its cross-check is skipped)")
        return
    import random
    rng = random.Random(15)
    mismatches = 0
    for _ in range(64):
        k = rng.randrange(1, r255.L)
        out = ctypes.create_string_buffer(32)
        sodium.crypto_scalarmult_ristretto255_base(out, k.to_bytes(32, "little"))
        mine = r255.encode(r255.mul_base(k))
        mismatches += out.raw != mine
        flipped = bytearray(mine)
        flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
        mismatches += bool(sodium.crypto_core_ristretto255_is_valid_point(bytes(flipped))) != \
            (r255.decode(bytes(flipped)) is not None)
        q = r255.mul(rng.randrange(r255.L), r255.G)
        sodium.crypto_core_ristretto255_add(out, mine, r255.encode(q))
        mismatches += out.raw != r255.encode(r255.add(r255.mul_base(k), q))
    check("ristretto255: 64 base multiplications, decodings and additions agree with the system libsodium",
          mismatches == 0, f"{mismatches} mismatches")


def _x25519_times(u, n):
    """u([n]P) for the point P of u-coordinate u, by repeated x-only
    doubling (n a power of 2); None for the identity."""
    p = 2**255 - 19
    x, z = u % p, 1
    while n > 1:
        xx = (x * x - z * z) ** 2 % p
        z = 4 * x * z * (x * x + 486662 * x * z + z * z) % p
        x, n = xx, n // 2
    return None if z == 0 else x * pow(z, p - 2, p) % p


def check_x25519():
    """Section 15.1's X25519 (RFC 7748, in secret.py) and the box's HSalsa20:
    RFC 7748's test vectors, agreement with libsodium (PyNaCl), and section
    15.2's small-order test on every small-order u (and non-canonical
    spellings of them) and on keys that are not of small order."""
    rfc = [("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
           ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
    for i, (k, u, out) in enumerate(rfc):
        got = secret.x25519(bytes.fromhex(k), bytes.fromhex(u)).hex()
        check(f"X25519: RFC 7748 section 5.2 vector {i + 1}", got == out, got)
    # RFC 7748 section 6.1: Alice's and Bob's keys and their shared secret.
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    check("X25519: RFC 7748 section 6.1 (public keys and shared secret)",
          secret.box_key_of(a).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
          and secret.box_key_of(b).hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
          and secret.x25519(a, secret.box_key_of(b)).hex()
          == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "")
    rng = __import__("random").Random(15)
    mismatches = 0
    for _ in range(24):
        s1, s2 = bytes(rng.randrange(256) for _ in range(32)), bytes(rng.randrange(256) for _ in range(32))
        k1 = nacl.bindings.crypto_scalarmult_base(s1)
        mismatches += secret.box_key_of(s1) != k1
        mismatches += secret.x25519(s2, k1) != nacl.bindings.crypto_scalarmult(s2, k1)
        mismatches += secret._hsalsa20(secret.x25519(s2, k1), bytes(16)) != nacl.bindings.crypto_box_beforenm(k1, s2)
    check("X25519 and HSalsa20: 24 key pairs agree with libsodium (scalarmult_base, scalarmult, box_beforenm)",
          mismatches == 0, f"{mismatches} mismatches")
    # The u-coordinates of the points of small order: on the curve, the
    # images u = (1 + y) / (1 - y) of the edwards25519 small-order points of
    # section 5 other than the identity (0, 1 and the two of order 8); on
    # the twist, p - 1 (order 4); then p and p + 1 (0 and 1 spelled
    # non-canonically), and each with bit 255 set (X25519 masks it).
    p = 2**255 - 19
    images = set()
    for enc in SMALL_ORDER:
        y = int.from_bytes(enc, "little") & ((1 << 255) - 1)
        if y != 1:
            images.add((1 + y) * pow(1 - y, p - 2, p) % p)
    o8 = sorted(images - {0, 1})
    small = sorted(images) + [p - 1, p, p + 1]
    spellings = [u.to_bytes(32, "little") for u in small] + [(u + 2**255).to_bytes(32, "little") for u in small]
    check("X25519: the small-order edwards25519 points give u = 0, 1 and two values of order 8",
          len(images) == 4 and {0, 1} <= images, str(sorted(images)))
    check("X25519: each small-order u (and its non-canonical spellings) gives 32 zero bytes for k = 0x01 * 32",
          all(secret.box_key_small_order(u) for u in spellings),
          str([u.hex() for u in spellings if not secret.box_key_small_order(u)]))
    check("X25519: the two other u values are of order 8 ([8]P is the identity, [4]P is (0, 0)), and p - 1 of "
          "order 4 on the twist", len(o8) == 2 and all(_x25519_times(u, 8) is None and _x25519_times(u, 4) == 0
                                                   for u in o8)
          and _x25519_times(p - 1, 4) is None and _x25519_times(p - 1, 2) == 0, "")
    fine = [secret.box_key_of(bytes([7]) * 32), (2).to_bytes(32, "little"), (9).to_bytes(32, "little"),
            (9 + 2**255).to_bytes(32, "little"), (p + 2).to_bytes(32, "little")]
    check("X25519: box keys not of small order (a real key, u = 2, the base point 9, 9 with bit 255 set, p + 2) "
          "pass the small-order test", not any(secret.box_key_small_order(u) for u in fine), "")
    nonce = bytes(24)
    sealed = nacl.bindings.crypto_box_easy(bytes(32), nonce, secret.box_key_of(bytes([3]) * 32), bytes([5]) * 32)
    check("section 15.1: a box whose X25519 shared secret is 32 zero bytes does not open (sender box key 0)",
          secret.open_box(sealed, nonce, bytes(32), bytes([3]) * 32) is None, "opens")
    # A box sealed under the all-zero shared secret's key (what a library
    # without libsodium's rule would make and open): it still does not open.
    zero_key = secret._hsalsa20(bytes(32), bytes(16))
    forged = nacl.bindings.crypto_secretbox_easy(bytes(range(32)), nonce, zero_key)
    check("section 15.1: a box sealed with the key of the all-zero shared secret does not open, whatever its tag",
          all(secret.open_box(forged, nonce, u, bytes([3]) * 32) is None for u in spellings),
          "opens")


def _system_libsodium():
    try:
        path = ctypes.util.find_library("sodium")
        lib = ctypes.CDLL(path) if path else None
        if lib is not None and hasattr(lib, "crypto_core_ristretto255_is_valid_point"):
            return lib
    except OSError:
        pass
    return None


def _payload(version, ledger_id, kind, body, nonce=7):
    """A payload header (section 3) around a body, for the decoder."""
    return b"DAUYSEVT" + struct.pack(">H", version) + ledger_id + bytes([kind]) + struct.pack(">Q", nonce) + body


def check_secret_vectors(v):
    """vectors.json["secret_format_3"]: the dealt polynomials and the tampered
    one's code, the key shares and election key they derive, both ballots
    and their cases, the tally, and the decryption share cases."""
    ledger_id, referendum = bytes.fromhex(v["ledger_id"]), bytes.fromhex(v["referendum"])
    n, t = len(v["trustees"]), v["threshold"]
    check("vectors secret_format_3: 2 <= threshold <= trustees", 2 <= t <= n, f"{t} of {n}")

    def split32(h):
        b = bytes.fromhex(h)
        return [b[k:k + 32] for k in range(0, len(b), 32)]

    polys = {}
    for d in v["dealt"]:
        poly = [bytes.fromhex(c) for c in d["polynomial"]]
        proof, opening = split32(d["proof_hex"]), bytes.fromhex(d["opening_hex"])
        check(f"vectors dealt {d['trustee']}: commitment = SHA-256(C_0 || opening)",
              secret.commitment_of(poly[0], opening).hex() == d["commitment_hex"], "")
        try:
            polys[d["trustee"]] = check_dealt_polynomial(n, t, bytes.fromhex(d["commitment_hex"]), poly, proof, opening)
            code = None
        except Bad as bad:
            code = bad.code
        check(f"vectors dealt {d['trustee']}: polynomial valid (t coefficients, commitment, proof of possession)",
              code is None, str(code))
        # The same dealt polynomial as a trustee_dealt body decodes to the same fields.
        body = referendum + struct.pack(">I", len(poly)) + b"".join(poly) + b"".join(proof) + opening
        p = decode_payload(_payload(3, ledger_id, 14, body))
        check(f"vectors dealt {d['trustee']}: as a trustee_dealt body", p["polynomial"] == poly and p["proof"] == proof
              and p["opening"] == opening, "")
    dt = v["dealt_tampered"]
    d0 = next(d for d in v["dealt"] if d["trustee"] == dt["trustee"])
    try:
        check_dealt_polynomial(n, t, bytes.fromhex(d0["commitment_hex"]), [bytes.fromhex(c) for c in d0["polynomial"]],
                               split32(dt["proof_hex"]), bytes.fromhex(d0["opening_hex"]))
        code = None
    except Bad as bad:
        code = bad.code
    check("vectors dealt_tampered: its code", code == dt["expected"], f"expected {dt['expected']}, got {code}")

    # Derived by every verifier from the dealt polynomials (section 15.2, Joint keys).
    shares, key = secret.joint_keys([polys[i] for i in range(n)])
    check("vectors key_shares: X_j = sum_i P_i(j + 1)", [secret.enc(x).hex() for x in shares] == v["key_shares"],
          str([secret.enc(x).hex() for x in shares]))
    check("vectors election_key: K = sum_i C_i0", secret.enc(key).hex() == v["election_key"], secret.enc(key).hex())
    ekey = secret.ElectionKey(key)

    for name in ("ballot_2_options", "ballot_5_options"):
        b = v[name]
        for case in b["cases"]:
            data = bytes.fromhex(case["ballot_hex"])
            # vectors.json's ballot bytes start after `options` (see the report): the
            # ballot_cast body is referendum || ballot_version 2 || u32 options || these bytes.
            body = bytes.fromhex(case["referendum"]) + b"\x02" + struct.pack(">I", b["options"]) + data
            p = decode_payload(_payload(3, ledger_id, 11, body))
            cts = secret.verify_ballot(ledger_id, bytes.fromhex(case["referendum"]), bytes.fromhex(case["voter"]),
                                       ekey, p["options"], p["ballot"])
            check(f"vectors {name}: {case['case']} is {'valid' if case['valid'] else 'invalid'}",
                  p["options"] == b["options"] and (cts is not None) == case["valid"], f"python: {cts is not None}")
        data = bytes.fromhex(b["ballot_hex"])
        check(f"vectors {name}: ballot_hex is the 'as cast' case, {b['options']} x 160 + 64 bytes",
              data.hex() == b["cases"][0]["ballot_hex"] and len(data) == 160 * b["options"] + 64, "")
        # Non-canonical inside: invalid_ballot, not malformed. c_0 + L and an
        # encoding with bit 255 set each make the ballot invalid.
        c0 = int.from_bytes(data[64:96], "little")
        bumped = data[:64] + (c0 + r255.L).to_bytes(32, "little") + data[96:] if c0 + r255.L < 2**256 else None
        top = data[:31] + bytes([data[31] | 0x80]) + data[32:]
        for label, bad in (("c_0 + L", bumped), ("R_0 with bit 255 set", top)):
            if bad is not None:
                p = decode_payload(_payload(3, ledger_id, 11, referendum + b"\x02" + struct.pack(">I", b["options"])
                                            + bad))
                check(f"vectors {name}: {label} decodes, and is refused by the proofs",
                      secret.verify_ballot(ledger_id, referendum, bytes.fromhex(v["voter"]), ekey, p["options"],
                                           p["ballot"]) is None, "accepted")

    # The tally ciphertexts and the decryption share cases.
    tally = []
    for h in v["tally"]:
        ct = bytes.fromhex(h)
        tally.append((secret.element(ct[:32]), secret.element(ct[32:])))
    check("vectors tally: 5 ciphertexts of canonical elements",
          len(tally) == 5 and all(a is not None and b is not None for a, b in tally), "")
    ds = v["decryption_share"]
    check("vectors decryption_share: share_hex is the 'as posted' case",
          ds["share_hex"] == ds["cases"][0]["share_hex"] and ds["trustee"] == ds["cases"][0]["trustee"], "")
    for case in ds["cases"]:
        data = bytes.fromhex(case["share_hex"])
        body = referendum + struct.pack(">I", len(tally)) + data  # the share bytes start after `options`
        p = decode_payload(_payload(3, ledger_id, 17, body))
        j = case["trustee"]
        got = secret.verify_decryption_share(ledger_id, referendum, j, shares[j], tally, p["share"])
        check(f"vectors decryption_share: {case['case']} is {'valid' if case['valid'] else 'invalid'}",
              (got is not None) == case["valid"], f"python: {got is not None}")
    other = list(tally)
    other[0] = (tally[0][0], r255.add(tally[0][1], r255.G))
    check("vectors decryption_share: refused against another tally (B_0 + G)", secret.verify_decryption_share(
        ledger_id, referendum, ds["trustee"], shares[ds["trustee"]], other, bytes.fromhex(ds["share_hex"])) is None,
        "accepted")
    # The box (section 15.1): the share trustee `from` sealed for trustee `to`.
    bx = v["box"]
    sealed, nonce = bytes.fromhex(bx["sealed_hex"]), bytes.fromhex(bx["nonce_hex"])
    sender, recipient_key = bytes.fromhex(bx["sender_box_key"]), bytes.fromhex(bx["recipient_box_key"])
    recipient_secret = bytes.fromhex(bx["recipient_box_secret"])
    plain = secret.open_box(sealed, nonce, sender, recipient_secret)
    check("vectors box: the sealed share opens (tag first) with the sender's box key and the recipient's box "
          "secret to plaintext_scalar_hex", plain is not None and plain.hex() == bx["plaintext_scalar_hex"],
          plain.hex() if plain else "does not open")
    check("vectors box: [scalar]G equals trustee 'from''s polynomial at x = to + 1 (a canonical scalar)",
          secret.share_matches(plain, polys[bx["from"]], bx["to"] + 1), "")
    check("vectors box: recipient_box_key = X25519(recipient_box_secret, 9)",
          secret.box_key_of(recipient_secret) == recipient_key, secret.box_key_of(recipient_secret).hex())
    check("vectors box: the nonce is the ceremony's nonce from 'from' to 'to' (section 15.2)",
          nonce == secret.ceremony_nonce(referendum, bx["from"], bx["to"]), "")
    check("vectors box: neither box key is of small order",
          not secret.box_key_small_order(sender) and not secret.box_key_small_order(recipient_key), "")
    check("vectors box: the 48 bytes read tag last do not open",
          secret.open_box(sealed[32:] + sealed[:32], nonce, sender, recipient_secret) is None, "opens")
    check("vectors box: a flipped bit of the tag does not open",
          secret.open_box(bytes([sealed[0] ^ 1]) + sealed[1:], nonce, sender, recipient_secret) is None, "opens")
    check("vectors box: with PyNaCl's crypto_box_open_easy too (independent of secret.py's X25519 and HSalsa20)",
          nacl.bindings.crypto_box_open_easy(sealed, nonce, sender, recipient_secret) == plain, "")

    check("section 15.4: Lagrange coefficients at 0 of trustees {0, 2} are 3/2 and -1/2",
          secret.lagrange_at_zero([0, 2]) == [3 * pow(2, -1, r255.L) % r255.L, (-pow(2, -1, r255.L)) % r255.L], "")


def _entries(path):
    """The decoded entries of an export."""
    with open(path, "rb") as f:
        return [decode_entry(base64.b64decode(json.loads(line)["entry"])) for line in f.read().splitlines()]


def rechain(items):
    """An export of the given entries, each (entry, time or None), at new
    positions with new links. The signature covers the payload only, so each
    stays validly signed: only the rules can refuse it."""
    out, prev = [], bytes(32)
    for position, (e, time_ms) in enumerate(items):
        raw = (b"DAUYSENT" + struct.pack(">HQ", e.version, position) + prev
               + struct.pack(">Q", e.time_ms if time_ms is None else time_ms) + e.author
               + struct.pack(">I", len(e.payload)) + e.payload + e.signature)
        prev = hashlib.sha256(raw).digest()
        out.append(b'{"position":%d,"hash":"%s","entry":"%s"}\n' % (position, prev.hex().encode(),
                                                                      base64.b64encode(raw)))
    return b"".join(out)


def check_v3_rechained():
    """Section 15's rules that no fixture reaches, on ledgers rebuilt from the
    signed payloads of fixtures/v3 (each moved to another position or time).
    These check the Python verifier's reading of FORMAT.md; no verdict of the
    Rust verifier stands behind them."""
    v = _entries(os.path.join(ROOT, "v3", "valid.jsonl"))
    bad = _entries(os.path.join(ROOT, "v3", "tampered", "bad_share_complaint_upheld.jsonl"))
    decl_15_5 = _entries(os.path.join(ROOT, "v3", "tampered", "declared_tally_differs.jsonl"))[60]
    late = _entries(os.path.join(ROOT, "v3", "tampered", "complaint_after_close.jsonl"))[58]
    twice = _entries(os.path.join(ROOT, "v3", "tampered", "trustee_named_twice.jsonl"))[27]
    log_key_call = _entries(os.path.join(ROOT, "v3", "tampered", "log_key_as_trustee.jsonl"))[27]
    small = _entries(os.path.join(ROOT, "v3", "tampered", "small_order_box_key.jsonl"))[28]
    opens, closes = 1773468000000, 1774072800000  # the referendum called at position 27
    p27 = decode_payload(v[27].payload)
    check("v3/valid: the referendum at 27 opens and closes as these checks assume",
          (p27["opens_at_ms"], p27["closes_at_ms"]) == (opens, closes), str(p27["opens_at_ms"]))

    def plain(entries):
        return [(e, None) for e in entries]

    # The shares in the other order: the Lagrange indexes are (2, 0), not (0, 2).
    # Up to the declaration: a later entry names a petition by its entry hash,
    # which rechaining changes.
    swapped = plain(v[:58]) + [(v[59], v[58].time_ms), (v[58], v[59].time_ms), (v[60], None)]
    cases = [
        # Section 15.4 keeps section 9's order: already_declared before the tally.
        ("a second declaration, of [15, 5] (declared_tally_differs' payload), after the valid ledger",
         plain(v) + [(decl_15_5, v[64].time_ms)], ("invalid", 65, "already_declared")),
        ("a complaint against a box that opens to the right share (bad_share_complaint_upheld's complaint "
         "in the valid ceremony)", plain(v[:37]) + [(bad[37], None)], ("invalid", 37, "complaint_unfounded")),
        ("a commitment at opens_at_ms", plain(v[:28]) + [(v[28], opens)], ("invalid", 28, "ceremony_closed")),
        ("a dealt polynomial before every trustee committed", plain(v[:29]) + [(v[31], None)],
         ("invalid", 29, "ceremony_out_of_order")),
        ("shares before every trustee dealt", plain(v[:32]) + [(v[34], None)],
         ("invalid", 32, "ceremony_out_of_order")),
        ("a trustee's commitment again (its nonce record from the call)", plain(v[:29]) + [(v[28], None)],
         ("invalid", 29, "stale_nonce")),
        ("a ballot at closes_at_ms", plain(v[:37]) + [(v[37], closes)], ("invalid", 37, "ballot_outside_window")),
        ("a decryption share before closes_at_ms", plain(v[:58]) + [(v[58], closes - 1)],
         ("invalid", 58, "share_too_early")),
        ("a decryption share while the ceremony is incomplete", plain(v[:36]) + [(v[58], None)],
         ("invalid", 36, "ceremony_incomplete")),
        ("a decryption share after an upheld complaint", plain(bad[:38]) + [(v[58], None)],
         ("invalid", 38, "ceremony_failed")),
        ("a declaration with no decryption share", plain(v[:58]) + [(v[60], None)],
         ("invalid", 58, "too_few_shares")),
        ("a declaration before closes_at_ms", plain(v[:58]) + [(v[60], closes - 1)],
         ("invalid", 58, "declared_too_early")),
        ("the valid ledger with its two decryption shares in the other order, declared", swapped, ("valid", 61)),
        ("the valid ledger up to its complete ceremony", plain(v[:37]), ("valid", 37)),
        # Complaints are taken until closes_at_ms (section 15.2). The valid
        # ballots fit bad_share_complaint_upheld's ceremony (the same dealt
        # polynomials, so the same K); its upheld complaint moved into voting.
        ("bad_share_complaint_upheld's complaint during voting, after the 21 ballots: upheld",
         plain(bad[:37]) + plain(v[37:58]) + [(bad[37], v[57].time_ms + 1)], ("valid", 59)),
        ("...then a decryption share after closes_at_ms",
         plain(bad[:37]) + plain(v[37:58]) + [(bad[37], v[57].time_ms + 1), (v[58], None)],
         ("invalid", 59, "ceremony_failed")),
        ("...then the declaration (no share)",
         plain(bad[:37]) + plain(v[37:58]) + [(bad[37], v[57].time_ms + 1), (v[60], None)],
         ("invalid", 59, "ceremony_failed")),
        ("the upheld complaint at closes_at_ms - 1", plain(bad[:37]) + plain(v[37:58]) + [(bad[37], closes - 1)],
         ("valid", 59)),
        ("the upheld complaint at closes_at_ms", plain(bad[:37]) + plain(v[37:58]) + [(bad[37], closes)],
         ("invalid", 58, "ceremony_closed")),
        ("complaint_after_close's complaint at closes_at_ms - 1: taken, and unfounded",
         plain(v[:58]) + [(late, closes - 1)], ("invalid", 58, "complaint_unfounded")),
        ("complaint_after_close's complaint after the ceremony, before opens_at_ms: unfounded",
         plain(v[:37]) + [(late, v[36].time_ms)], ("invalid", 37, "complaint_unfounded")),
        # The trustee checks come after the window check (section 15.2).
        ("trustee_named_twice's call at opens_at_ms + 1 (its window starts before now): bad_window first",
         plain(v[:27]) + [(twice, opens + 1)], ("invalid", 27, "bad_window")),
        ("log_key_as_trustee's call at opens_at_ms: bad_trustees", plain(v[:27]) + [(log_key_call, opens)],
         ("invalid", 27, "bad_trustees")),
        # ...and after the first check, which calling again passes.
        ("log_key_as_trustee's call after the valid call (the petition is in a referendum that is not void)",
         plain(v[:28]) + [(log_key_call, None)], ("invalid", 28, "referendum_not_allowed")),
        ("trustee_named_twice's call after an upheld complaint (calling again passes the first check)",
         plain(bad[:38]) + [(twice, bad[37].time_ms)], ("invalid", 38, "bad_trustees")),
        ("log_key_as_trustee's call at opens_at_ms with the ceremony incomplete: calling again passes, "
         "the window holds (opens_at_ms >= now), then bad_trustees", plain(v[:36]) + [(log_key_call, opens)],
         ("invalid", 36, "bad_trustees")),
        ("the same at opens_at_ms + 1: calling again passes, then bad_window",
         plain(v[:36]) + [(log_key_call, opens + 1)], ("invalid", 36, "bad_window")),
        ("small_order_box_key's commitment at opens_at_ms: ceremony_closed first",
         plain(v[:28]) + [(small, opens)], ("invalid", 28, "ceremony_closed")),
        ("(assumption: 'once per trustee' before the small-order test) small_order_box_key's commitment after "
         "the same trustee's valid one", plain(v[:29]) + [(small, None)], ("invalid", 29, "ceremony_step_repeated")),
        ("small_order_box_key's commitment after the other two trustees' (any position)",
         plain(v[:28]) + plain(v[29:31]) + [(small, v[30].time_ms)], ("invalid", 30, "ceremony_step_invalid")),
    ]
    for label, items, want in cases:
        got = verify(rechain(items))
        check(f"v3 rechained: {label}", got[:len(want)] == want, f"expected {want}, python verifier says {got}")

    # Formats do not mix (section 1): a format 3 entry in a format 2 ledger.
    v2 = _entries(os.path.join(ROOT, "v2", "valid.jsonl"))
    got = verify(rechain(plain(v2[:3]) + [(v[1], None)]))
    check("v3 entry in a format 2 ledger: malformed_entry", got == ("invalid", 3, "malformed_entry"), str(got))


def check_v3_synthetic():
    """Every rule of section 15 on synthetic format 3 ledgers (v3_synthetic.py):
    each case builds a village, ends it with one act, and states the code
    FORMAT.md gives that act (None: the ledger is valid). These check the
    Python verifier against its author's reading of FORMAT.md (quoted where
    the reading is not plain); the Rust verifier's verdicts on them are not
    known here."""
    import v3_synthetic as syn

    def village(upto="called", seed=1, n=3, t=2, options=2, voters=3, **call):
        """A village with a petition rejected by the council and a referendum
        called on it, then the ceremony and the votes up to `upto`."""
        v = syn.Village(seed)
        v.genesis()
        v.enrol(v.voters[:voters])
        pid = v.petition()
        ref = v.call(pid, trustees=n, t=t, options=options, **call)
        v.pid = pid
        steps = ["called", "committed", "dealt", "complete", "voted", "shared", "declared"]
        want = steps.index(upto)
        if want >= 1:
            for i in range(n):
                v.commit(ref, i)
        if want >= 2:
            for i in range(n):
                v.deal(ref, i)
        if want >= 3:
            for i in range(n):
                v.send(ref, i)
        if want >= 4:  # voter 2 votes twice: the later ballot replaces the earlier
            v.ballot(ref, 0, 0, at=ref.opens)
            v.ballot(ref, 1, 1 % options)
            v.ballot(ref, 2, 0)
            v.ballot(ref, 2, 1 % options)
        if want >= 5:
            v.share(ref, n - 1, at=ref.closes)
            for j in range(t - 1):
                v.share(ref, j)
        if want >= 6:
            v.declare(ref)
        return v, ref

    def flip_top(data, offset):
        """The 32 bytes at offset with bit 255 set: a non-canonical element or scalar."""
        return data[:offset + 31] + bytes([data[offset + 31] | 0x80]) + data[offset + 32:]

    cases = []

    def case(label, want):
        def register(fn):
            cases.append((label, fn, want))
            return fn
        return register

    # --- the whole story and the declaration ------------------------------
    @case("the whole story: ceremony, four ballots (voter 2 votes again), two shares, declared [1, 2]", None)
    def _():
        return village("declared")[0]

    @case("declaration counting voter 2's two ballots ([2, 2])", "tally_mismatch")
    def _():
        v, ref = village("shared")
        v.declare(ref, tally=[2, 2])
        return v

    @case("declaration with the outcome reversed", "outcome_mismatch")
    def _():
        v, ref = village("shared")
        v.declare(ref, tally=[1, 2], outcome=1)
        return v

    @case("declaration with one count too many ([1, 2, 0])", "tally_mismatch")
    def _():
        v, ref = village("shared")
        v.declare(ref, tally=[1, 2, 0])
        return v

    @case("a second declaration", "already_declared")
    def _():
        v, ref = village("declared")
        v.declare(ref)
        return v

    @case("declaration with one share of a threshold of 2", "too_few_shares")
    def _():
        v, ref = village("voted")
        v.share(ref, 1, at=ref.closes)
        v.declare(ref)
        return v

    @case("threshold 3 of 4 trustees: shares by trustees 3, 0, 1, declared", None)
    def _():
        return village("declared", n=4, t=3)[0]

    @case("threshold 3 of 4: the first 3 shares in log order decide, a 4th changes nothing", None)
    def _():
        v, ref = village("shared", n=4, t=3)
        v.share(ref, 2)
        v.declare(ref)
        return v

    @case("5 options, no ballot: two shares of the empty tally (0, 0), declared [0, 0, 0, 0, 0]", None)
    def _():
        v, ref = village("complete", options=5)
        v.share(ref, 0, at=ref.closes)
        v.share(ref, 1)
        v.declare(ref, tally=[0] * 5, outcome=2)
        return v

    # --- the ceremony -------------------------------------------------------
    @case("a commitment by a voter who is no trustee", "not_a_trustee")
    def _():
        v, ref = village("called")
        v.act(v.voters[0], 13, ref.id + bytes(64))
        return v

    @case("a commitment to a petition id (no such referendum)", "unknown_referendum")
    def _():
        v, ref = village("called")
        v.act(ref.trustees[0].key, 13, v.pid + bytes(64))
        return v

    @case("a commitment at opens_at_ms", "ceremony_closed")
    def _():
        v, ref = village("called")
        v.commit(ref, 0, at=ref.opens)
        return v

    @case("a commitment by a non-trustee at opens_at_ms (ceremony_closed comes first)", "ceremony_closed")
    def _():
        v, ref = village("called")
        v.act(v.voters[0], 13, ref.id + bytes(64), at=ref.opens)
        return v

    @case("a second commitment", "ceremony_step_repeated")
    def _():
        v, ref = village("called")
        v.commit(ref, 0)
        v.commit(ref, 0)
        return v

    @case("a trustee's first act with nonce 0 (a record without an act accepts any nonce)", None)
    def _():
        v, ref = village("called")
        v.commit(ref, 0, nonce=0)
        return v

    @case("a trustee's act with a nonce below its last", "stale_nonce")
    def _():
        v, ref = village("called")
        v.commit(ref, 0, nonce=5)
        v.commit(ref, 1)
        v.act(ref.trustees[0].key, 13, ref.id + bytes(64), nonce=4)
        return v

    @case("a dealt polynomial before every trustee committed", "ceremony_out_of_order")
    def _():
        v, ref = village("called")
        v.commit(ref, 0)
        v.commit(ref, 1)
        v.deal(ref, 0)
        return v

    @case("a dealt polynomial of 3 coefficients (t = 2) and a wrong opening: the count is checked first",
          "ceremony_step_invalid")
    def _():
        v, ref = village("committed")
        poly = ref.trustees[0].poly_bytes()
        v.deal(ref, 0, poly=poly + [poly[1]], opening=bytes(32), proof=[bytes(32)] * 4)
        return v

    @case("a dealt polynomial with another opening", "commitment_mismatch")
    def _():
        v, ref = village("committed")
        v.deal(ref, 0, opening=bytes(32))
        return v

    @case("a dealt polynomial with a non-canonical C_1", "ceremony_step_invalid")
    def _():
        v, ref = village("committed")
        poly = ref.trustees[0].poly_bytes()
        v.deal(ref, 0, poly=[poly[0], poly[1][:31] + bytes([poly[1][31] | 0x80])])
        return v

    @case("a non-canonical C_0 that the commitment covers as written: the commitment holds, then "
          "ceremony_step_invalid", "ceremony_step_invalid")
    def _():
        v, ref = village("called")
        tr = ref.trustees[0]
        poly = tr.poly_bytes()
        bad_c0 = poly[0][:31] + bytes([poly[0][31] | 0x80])
        v.commit(ref, 0, commitment=hashlib.sha256(bad_c0 + tr.opening).digest())
        for i in (1, 2):
            v.commit(ref, i)
        v.deal(ref, 0, poly=[bad_c0, poly[1]])
        return v

    @case("a proof of possession made for n = 4", "ceremony_step_invalid")
    def _():
        v, ref = village("committed")
        v.deal(ref, 0, n=4)
        return v

    @case("a proof of possession with the response s_0 + L (non-canonical)", "ceremony_step_invalid")
    def _():
        v, ref = village("committed")
        proof = syn.pop_proof(v.rng, ref.n, ref.t, ref.trustees[0].coeffs)
        s0 = int.from_bytes(proof[1], "little") + r255.L
        v.deal(ref, 0, proof=[proof[0], s0.to_bytes(32, "little"), proof[2]])
        return v

    @case("a second dealt polynomial", "ceremony_step_repeated")
    def _():
        v, ref = village("committed")
        v.deal(ref, 0)
        v.deal(ref, 0)
        return v

    @case("shares before every trustee dealt", "ceremony_out_of_order")
    def _():
        v, ref = village("committed")
        v.deal(ref, 0)
        v.deal(ref, 1)
        v.send(ref, 0)
        return v

    @case("one box for two other trustees", "ceremony_step_invalid")
    def _():
        v, ref = village("dealt")
        v.send(ref, 0, boxes=v.boxes(ref, 0)[:1])
        return v

    @case("a box with the nonce of another pair (0 -> 1 sent with the nonce of 1 -> 0)", "ceremony_step_invalid")
    def _():
        v, ref = village("dealt")
        v.send(ref, 0, boxes=v.boxes(ref, 0, nonce_of=lambda j: secret.ceremony_nonce(ref.id, j, 0)))
        return v

    @case("shares sent twice", "ceremony_step_repeated")
    def _():
        v, ref = village("complete")
        v.send(ref, 0)
        return v

    @case("the last shares when X_0 is the identity", "ceremony_step_invalid")
    def _():
        v, ref = village("called")
        trs = ref.trustees  # trustee 2 picks its constant so that sum_i P_i(1) = 0
        trs[2].coeffs[0] = -(trs[0].f(1) + trs[1].f(1) + trs[2].coeffs[1]) % r255.L
        v.ceremony(ref)
        return v

    def identity_key():
        v, ref = village("called")
        trs = ref.trustees
        trs[2].coeffs[0] = -(trs[0].coeffs[0] + trs[1].coeffs[0]) % r255.L
        v.ceremony(ref)
        return v, ref

    @case("a ceremony whose election key K is the identity is accepted (section 15.2, Joint keys)", None)
    def _():
        return identity_key()[0]

    @case("K the identity: a ballot whose proofs were made for K = 0 (they verify) is invalid_ballot",
          "invalid_ballot")
    def _():
        v, ref = identity_key()
        v.ballot(ref, 0, 0, at=ref.opens)
        return v

    # --- complaints ---------------------------------------------------------
    @case("a complaint against trustee n", "ceremony_step_invalid")
    def _():
        v, ref = village("complete")
        v.complain(ref, 0, 3)
        return v

    @case("a complaint against oneself", "ceremony_step_invalid")
    def _():
        v, ref = village("complete")
        v.complain(ref, 1, 1)
        return v

    @case("a complaint by a trustee who has not committed", "ceremony_out_of_order")
    def _():
        v, ref = village("called")
        v.commit(ref, 0)
        v.complain(ref, 2, 0)
        return v

    @case("a complaint with another box secret", "ceremony_step_invalid")
    def _():
        v, ref = village("complete")
        v.complain(ref, 1, 0, box_secret=ref.trustees[2].box_secret)
        return v

    @case("a complaint against a trustee who has not sent its shares", "ceremony_step_invalid")
    def _():
        v, ref = village("dealt")
        v.send(ref, 0)
        v.complain(ref, 1, 2)
        return v

    for i, a in ((2, 0), (1, 0), (0, 2), (1, 2)):  # the box at slot i or i - 1 of a's shares
        @case(f"a complaint of trustee {i} against trustee {a}'s box, which opens to the right share",
              "complaint_unfounded")
        def _(i=i, a=a):
            v, ref = village("complete")
            v.complain(ref, i, a)
            return v

    @case("a complaint at opens_at_ms is still taken (until closes_at_ms), and judged: unfounded",
          "complaint_unfounded")
    def _():
        v, ref = village("complete")
        v.complain(ref, 2, 0, at=ref.opens)
        return v

    @case("an unfounded complaint during voting, after ballots", "complaint_unfounded")
    def _():
        v, ref = village("voted")
        v.complain(ref, 1, 0)
        return v

    @case("a complaint at closes_at_ms", "ceremony_closed")
    def _():
        v, ref = village("voted")
        v.complain(ref, 1, 0, at=ref.closes)
        return v

    @case("a complaint at closes_at_ms by a voter who is no trustee (ceremony_closed comes first)",
          "ceremony_closed")
    def _():
        v, ref = village("voted")
        v.act(v.voters[0], 16, ref.id + bytes(33), at=ref.closes)
        return v

    @case("a complaint during voting by a voter who is no trustee", "not_a_trustee")
    def _():
        v, ref = village("voted")
        v.act(v.voters[0], 16, ref.id + bytes(33))
        return v

    @case("a dealt polynomial at opens_at_ms (kinds 13-15 close at opens_at_ms)", "ceremony_closed")
    def _():
        v, ref = village("committed")
        v.deal(ref, 0, at=ref.opens)
        return v

    @case("shares at opens_at_ms", "ceremony_closed")
    def _():
        v, ref = village("dealt")
        v.send(ref, 0, at=ref.opens)
        return v

    def failed(how):
        """A ceremony failed by an upheld complaint of trustee 1 against trustee 0."""
        v, ref = village("dealt")
        if how == "tag":
            boxes = v.boxes(ref, 0, bad_box=1)
        elif how == "value":
            boxes = v.boxes(ref, 0, value={1: (ref.trustees[0].f(2) + 1) % r255.L})
        else:  # the right share + L: the same point, but not a canonical scalar
            boxes = v.boxes(ref, 0, value={1: ref.trustees[0].f(2) + r255.L})
        v.send(ref, 0, boxes=boxes)
        v.send(ref, 1)
        v.send(ref, 2)
        v.complain(ref, 1, 0)
        return v, ref

    for how, label in (("tag", "a box that does not open"), ("value", "a box that opens to a wrong share"),
                       ("plus_l", "a box that opens to the right share + L (not canonical)")):
        @case(f"a complaint upheld against {label}", None)
        def _(how=how):
            return failed(how)[0]

        @case(f"after a complaint upheld against {label}: a ballot", "ceremony_failed")
        def _(how=how):
            v, ref = failed(how)
            v.ballot(ref, 0, 0, at=ref.opens)
            return v

    @case("after an upheld complaint: another complaint", "ceremony_failed")
    def _():
        v, ref = failed("tag")
        v.complain(ref, 2, 0)
        return v

    @case("after an upheld complaint: a decryption share", "ceremony_failed")
    def _():
        v, ref = failed("tag")
        v.share(ref, 0, at=ref.closes)
        return v

    @case("after an upheld complaint: the declaration", "ceremony_failed")
    def _():
        v, ref = failed("tag")
        v.declare(ref, tally=[0, 0], outcome=2, at=ref.closes)
        return v

    # --- ballots ------------------------------------------------------------
    @case("a ballot before the ceremony is complete", "ceremony_incomplete")
    def _():
        v, ref = village("dealt")
        v.ballot(ref, 0, 0, at=ref.opens)
        return v

    @case("a ballot with 3 options for a 2-option referendum", "invalid_ballot")
    def _():
        v, ref = village("complete")
        v.ballot(ref, 0, 0, options=3, at=ref.opens)
        return v

    @case("a ballot encrypted to another key", "invalid_ballot")
    def _():
        v, ref = village("complete")
        v.ballot(ref, 0, 0, key=r255.mul_base(12345), at=ref.opens)
        return v

    @case("a ballot with a non-canonical s_01 (invalid_ballot, not malformed)", "invalid_ballot")
    def _():
        v, ref = village("complete")
        v.ballot(ref, 0, 0, tamper=lambda d: flip_top(d, 96), at=ref.opens)
        return v

    @case("a ballot with a non-canonical B_1", "invalid_ballot")
    def _():
        v, ref = village("complete")
        v.ballot(ref, 0, 0, tamper=lambda d: flip_top(d, 160 + 32), at=ref.opens)
        return v

    @case("a ballot one byte short", "malformed_payload")
    def _():
        v, ref = village("complete")
        v.ballot(ref, 0, 0, tamper=lambda d: d[:-1], at=ref.opens)
        return v

    @case("an open ballot (ballot_version 1) in format 3", "malformed_payload")
    def _():
        v, ref = village("complete")
        v.act(v.voters[0], 11, ref.id + b"\x01\x00", at=ref.opens)
        return v

    @case("a ballot by a voter enrolled after the call", "not_in_electorate")
    def _():
        v, ref = village("complete", voters=3)
        v.enrol([v.voters[3]])
        v.ballot(ref, 3, 0, at=ref.opens)
        return v

    @case("a ballot at closes_at_ms", "ballot_outside_window")
    def _():
        v, ref = village("complete")
        v.ballot(ref, 0, 0, at=ref.closes)
        return v

    # --- decryption shares --------------------------------------------------
    @case("a decryption share before closes_at_ms", "share_too_early")
    def _():
        v, ref = village("voted")
        v.share(ref, 0, at=ref.closes - 1)
        return v

    @case("a decryption share by a voter", "not_a_trustee")
    def _():
        v, ref = village("voted")
        v.share(ref, 0, key=v.voters[0], at=ref.closes)
        return v

    @case("a decryption share while the ceremony is incomplete", "ceremony_incomplete")
    def _():
        v, ref = village("dealt")
        v.act(ref.trustees[0].key, 17, ref.id + struct.pack(">I", 2) + bytes(192), at=ref.closes)
        return v

    @case("a second decryption share by the same trustee", "ceremony_step_repeated")
    def _():
        v, ref = village("shared")
        v.share(ref, 0)
        return v

    @case("a decryption share for 3 options of a 2-option referendum", "invalid_decryption_share")
    def _():
        v, ref = village("voted")
        v.share(ref, 0, options=3, at=ref.closes)
        return v

    @case("a decryption share with a non-canonical D_1 (invalid_decryption_share, not malformed)",
          "invalid_decryption_share")
    def _():
        v, ref = village("voted")
        v.share(ref, 0, tamper=lambda d: flip_top(d, 96), at=ref.closes)
        return v

    @case("a decryption share whose proof names trustee 1 (posted by trustee 0)", "invalid_decryption_share")
    def _():
        v, ref = village("voted")
        v.share(ref, 0, trustee_index=1, at=ref.closes)
        return v

    @case("a decryption share of 2 options one byte short", "malformed_payload")
    def _():
        v, ref = village("voted")
        v.share(ref, 0, tamper=lambda d: d[:-1], at=ref.closes)
        return v

    # --- calling again (section 15.2) ------------------------------------
    @case("calling again after an upheld complaint, then the new ceremony and a ballot", None)
    def _():
        v, ref = failed("tag")
        ref2 = v.call(v.pid, trustee_keys=v.spare_keys[3:6])
        v.ceremony(ref2)
        v.ballot(ref2, 0, 1, at=ref2.opens)
        return v

    @case("calling again after an upheld complaint: a ballot in the old referendum", "ceremony_failed")
    def _():
        v, ref = failed("tag")
        v.call(v.pid)
        v.ballot(ref, 0, 1, at=ref.opens)
        return v

    @case("calling again while the ceremony may still complete (before its opens_at_ms)",
          "referendum_not_allowed")
    def _():
        v, ref = village("dealt")
        v.call(v.pid)
        return v

    @case("calling again at the old opens_at_ms, its ceremony incomplete", None)
    def _():
        v, ref = village("dealt")
        v.call(v.pid, dt=ref.opens - v.time)
        return v

    @case("calling again after a complete ceremony's opens_at_ms", "referendum_not_allowed")
    def _():
        v, ref = village("complete")
        v.call(v.pid, dt=ref.opens - v.time)
        return v

    # --- the call's trustees (section 15.2, in section 9's order) -----------
    def trustee_list(v, *which):
        """Trustee keys for a call: spare keys by index, or bytes as given."""
        return [bytes(v.spare_keys[w].verify_key) if isinstance(w, int) else w for w in which]

    def not_a_point():
        """32 bytes that are no edwards25519 point (the first y from 2 up)."""
        from verify import is_canonical_point
        y = 2
        while is_canonical_point(y.to_bytes(32, "little")):
            y += 1
        return y.to_bytes(32, "little")

    def non_canonical():
        """y + p for the first y from 2 up that is a point's (not of small
        order): the same point as y, spelled non-canonically."""
        from verify import is_canonical_point, key_acceptable
        y = 2
        while not key_acceptable(y.to_bytes(32, "little")):
            y += 1
        assert y < 19 and not is_canonical_point((y + 2**255 - 19).to_bytes(32, "little"))
        return (y + 2**255 - 19).to_bytes(32, "little")

    def call_with(raw, **kw):
        v = syn.Village(1)
        v.genesis()
        v.enrol(v.voters[:3])
        pid = v.petition()
        v.call(pid, raw_trustees=raw(v), **kw)
        return v

    for label, raw in (
            ("the same key twice (trustees 0 and 2)", lambda v: trustee_list(v, 0, 1, 0)),
            ("the same key twice, adjacent", lambda v: trustee_list(v, 0, 0, 1)),
            ("the log key", lambda v: trustee_list(v, 0, 1, bytes(v.log.verify_key))),
            ("the log key as trustee 0", lambda v: trustee_list(v, bytes(v.log.verify_key), 0, 1)),
            ("a key of small order (the identity's encoding)",
             lambda v: trustee_list(v, 0, 1, bytes([1]) + bytes(31))),
            ("a key that is no point", lambda v: trustee_list(v, 0, not_a_point(), 1)),
            ("a non-canonical key (y + p for a point's y < 19, not of small order)",
             lambda v: trustee_list(v, 0, 1, non_canonical()))):
        @case(f"a call naming {label} as a trustee", "bad_trustees")
        def _(raw=raw):
            return call_with(raw)

    @case("a call naming a trustee twice with a window that starts before now: bad_window comes first",
          "bad_window")
    def _():
        return call_with(lambda v: trustee_list(v, 0, 1, 0), opens_in=-2000)

    @case("a call naming the log key with a window shorter than the minimum: bad_window comes first",
          "bad_window")
    def _():
        return call_with(lambda v: trustee_list(v, 0, 1, bytes(v.log.verify_key)), window=10)

    @case("a call naming the log key on a petition that already has a referendum: referendum_not_allowed first",
          "referendum_not_allowed")
    def _():
        v, ref = village("complete")
        v.call(v.pid, raw_trustees=trustee_list(v, 3, 4, bytes(v.log.verify_key)))
        return v

    @case("a call naming the commission, the council and a voter as trustees, then the whole story", None)
    def _():
        v = syn.Village(1)
        v.genesis()
        v.enrol(v.voters[:3])
        pid = v.petition()
        ref = v.call(pid, trustee_keys=[v.commission, v.council, v.voters[2]])
        v.ceremony(ref)
        v.ballot(ref, 0, 0, at=ref.opens)
        v.ballot(ref, 2, 1)
        v.share(ref, 2, at=ref.closes)
        v.share(ref, 0)
        v.declare(ref)
        return v

    @case("the commission as trustee 0 commits with a nonce not above the commission's last", "stale_nonce")
    def _():
        v = syn.Village(1)
        v.genesis()
        v.enrol(v.voters[:3])
        pid = v.petition()
        ref = v.call(pid, trustee_keys=[v.commission, v.council, v.voters[2]])
        v.commit(ref, 0, nonce=v.nonces[bytes(v.commission.verify_key)])
        return v

    @case("a voter as trustee 2 commits with a nonce not above its last act as a voter", "stale_nonce")
    def _():
        v = syn.Village(1)
        v.genesis()
        v.enrol(v.voters[:3])
        pid = v.petition()
        v.act(v.voters[2], 4, syn.s_("culture") + syn.s_("Bins") + syn.s_("More bins."), nonce=40)
        ref = v.call(pid, trustee_keys=[v.commission, v.council, v.voters[2]])
        v.commit(ref, 2, nonce=40)
        return v

    @case("(assumption: one nonce record per key) a trustee enrolled as a voter after its commitment files a "
          "petition with a nonce below its last trustee act", "stale_nonce")
    def _():
        v, ref = village("called")
        v.commit(ref, 0, nonce=50)
        v.enrol([ref.trustees[0].key])
        v.act(ref.trustees[0].key, 4, syn.s_("culture") + syn.s_("Bins") + syn.s_("More bins."), nonce=10)
        return v

    # --- small-order box keys (section 15.2, trustee_committed) -------------
    p25519 = 2**255 - 19
    small_order_u = set()  # the u = (1 + y) / (1 - y) of section 5's small-order points but the identity
    for enc_ in SMALL_ORDER:
        y_ = int.from_bytes(enc_, "little") & ((1 << 255) - 1)
        if y_ != 1:
            small_order_u.add((1 + y_) * pow(1 - y_, p25519 - 2, p25519) % p25519)
    for label, u in [("0", 0), ("1", 1), ("p - 1", p25519 - 1)] + [
            (f"the order-8 u {u_.to_bytes(32, 'little').hex()[:8]}...", u_) for u_ in sorted(small_order_u)
            if u_ not in (0, 1)] + [("p (0 spelled non-canonically)", p25519),
                                     ("p + 1 (1 spelled non-canonically)", p25519 + 1),
                                     ("0 with bit 255 set", 2**255)]:
        @case(f"a commitment with box key u = {label} (small order)", "ceremony_step_invalid")
        def _(u=u):
            v, ref = village("called")
            v.commit(ref, 0, box_key=u.to_bytes(32, "little"))
            return v

    @case("a commitment with box key u = 2 (not of small order; on the curve or its twist alike)", None)
    def _():
        v, ref = village("called")
        v.commit(ref, 0, box_key=(2).to_bytes(32, "little"))
        return v

    @case("a commitment whose box key has bit 255 set over a real key (X25519 masks it: not of small order)", None)
    def _():
        v, ref = village("called")
        tr = ref.trustees[1]
        v.commit(ref, 1, box_key=tr.box_key[:31] + bytes([tr.box_key[31] | 0x80]))
        return v

    @case("...whose trustee later complains with its box secret: X25519(box_secret, 9) is not the box key as "
          "written", "ceremony_step_invalid")
    def _():
        v, ref = village("called")
        tr = ref.trustees[1]
        v.commit(ref, 0)
        v.commit(ref, 1, box_key=tr.box_key[:31] + bytes([tr.box_key[31] | 0x80]))
        v.commit(ref, 2)
        v.deal(ref, 0)
        v.deal(ref, 1)
        v.deal(ref, 2)
        v.send(ref, 0)
        v.complain(ref, 1, 0)
        return v

    @case("a small-order box key by a voter who is no trustee (the common checks come first)", "not_a_trustee")
    def _():
        v, ref = village("called")
        v.act(v.voters[0], 13, ref.id + bytes(32) + bytes(32))
        return v

    @case("a small-order box key at opens_at_ms", "ceremony_closed")
    def _():
        v, ref = village("called")
        v.commit(ref, 0, box_key=bytes(32), at=ref.opens)
        return v

    @case("(assumption: the small-order test comes after 'once per trustee') a second commitment with a "
          "small-order box key", "ceremony_step_repeated")
    def _():
        v, ref = village("called")
        v.commit(ref, 0)
        v.commit(ref, 0, box_key=bytes(32))
        return v

    # --- a complaint upheld during voting (section 15.2) --------------------
    def failed_in_voting(at=None):
        """Trustee 0 sends trustee 1 a box that does not open; the ceremony
        completes, voters 0 and 1 vote, then trustee 1 complains (upheld)."""
        v, ref = village("dealt")
        v.send(ref, 0, boxes=v.boxes(ref, 0, bad_box=1))
        v.send(ref, 1)
        v.send(ref, 2)
        v.ballot(ref, 0, 0, at=ref.opens)
        v.ballot(ref, 1, 1)
        v.complain(ref, 1, 0, at=at)
        return v, ref

    @case("a complaint upheld during voting, after the ceremony completed and two ballots", None)
    def _():
        return failed_in_voting()[0]

    @case("a complaint upheld at closes_at_ms - 1", None)
    def _():
        v, ref = village("dealt")
        v.send(ref, 0, boxes=v.boxes(ref, 0, value={1: (ref.trustees[0].f(2) + 1) % r255.L}))
        v.send(ref, 1)
        v.send(ref, 2)
        v.ballot(ref, 0, 0, at=ref.opens)
        v.complain(ref, 1, 0, at=ref.closes - 1)
        return v

    @case("the same complaint at closes_at_ms", "ceremony_closed")
    def _():
        v, ref = village("dealt")
        v.send(ref, 0, boxes=v.boxes(ref, 0, value={1: (ref.trustees[0].f(2) + 1) % r255.L}))
        v.send(ref, 1)
        v.send(ref, 2)
        v.ballot(ref, 0, 0, at=ref.opens)
        v.complain(ref, 1, 0, at=ref.closes)
        return v

    @case("after a complaint upheld during voting: a new voter's ballot", "ceremony_failed")
    def _():
        v, ref = failed_in_voting()
        v.ballot(ref, 2, 0)
        return v

    @case("after a complaint upheld during voting: a re-vote", "ceremony_failed")
    def _():
        v, ref = failed_in_voting()
        v.ballot(ref, 0, 1)
        return v

    @case("after a complaint upheld during voting: a second complaint", "ceremony_failed")
    def _():
        v, ref = failed_in_voting()
        v.complain(ref, 2, 0)
        return v

    @case("after a complaint upheld during voting: a decryption share after closes_at_ms", "ceremony_failed")
    def _():
        v, ref = failed_in_voting()
        v.share(ref, 2, at=ref.closes)
        return v

    @case("after a complaint upheld during voting: the declaration", "ceremony_failed")
    def _():
        v, ref = failed_in_voting()
        v.declare(ref, tally=[1, 1], outcome=2, at=ref.closes)
        return v

    @case("after a complaint upheld during voting: the referendum is void and called again, its ceremony, "
          "ballots, shares and declaration", None)
    def _():
        v, ref = failed_in_voting()
        ref2 = v.call(v.pid, trustee_keys=v.spare_keys[3:6])
        v.ceremony(ref2)
        v.ballot(ref2, 0, 1, at=ref2.opens)
        v.ballot(ref2, 2, 0)
        v.share(ref2, 1, at=ref2.closes)
        v.share(ref2, 2)
        v.declare(ref2)
        return v

    @case("after a complaint upheld during voting and a new call: a ballot in the void referendum",
          "ceremony_failed")
    def _():
        v, ref = failed_in_voting()
        v.call(v.pid, trustee_keys=v.spare_keys[3:6])
        v.ballot(ref, 2, 0)
        return v

    @case("a new call naming a trustee twice on the void referendum's petition", "bad_trustees")
    def _():
        v, ref = failed_in_voting()
        v.call(v.pid, raw_trustees=trustee_list(v, 3, 4, 3))
        return v

    @case("a new call during voting while the complete ceremony stands (no complaint)", "referendum_not_allowed")
    def _():
        v, ref = village("voted")
        v.call(v.pid, trustee_keys=v.spare_keys[3:6])
        return v

    # --- decoding (sections 1, 4, 15) -------------------------------------
    for label, kw in (("threshold 1", dict(raw_threshold=1)), ("threshold 4 of 3 trustees", dict(raw_threshold=4)),
                      ("one trustee", dict(n=1, t=1)), ("17 trustees", dict(raw_trustees=[bytes(32)] * 17))):
        @case(f"a call with {label}", "malformed_payload")
        def _(kw=kw):
            return village("called", **kw)[0]

    @case("a trustee_committed in a format 2 ledger", "malformed_payload")
    def _():
        v = syn.Village(2, version=2)
        v.genesis()
        v.act(v.commission, 13, bytes(96))
        return v

    started = time.monotonic()
    for label, build, want_code in cases:
        v = build()
        got = verify(v.export())
        want = ("valid", v.position) if want_code is None else ("invalid", v.position - 1, want_code)
        check(f"v3 synthetic: {label}", got[:len(want)] == want, f"expected {want}, python verifier says {got}")
    timings["synthetic"] = time.monotonic() - started


# fixtures/client-files.json names the fault each altered copy must be refused
# for; the kind of LockedKeyError (client_files.py) that fault is.
CLIENT_FILE_REFUSALS = {
    "wrong passphrase, or the key file was altered": "box",
    "the key file's public key does not match its secret": "public_key",
    "the key file asks for key derivation settings outside the accepted range": "kdf_range",
}


def locked_key_refusal(obj, passphrase):
    """The kind of refusal of the locked key file `obj` (a JSON object), or
    None if it opens."""
    try:
        client_files.read_locked_key(json.dumps(obj, ensure_ascii=False), passphrase)
    except client_files.LockedKeyError as e:
        if os.environ.get("DAUYS_SHOW_REASONS"):
            print(f"  refused: {e}")
        return e.kind
    return None


def check_client_files(c):
    """Section 16.2: the locked key file."""
    started = time.monotonic()
    seed = bytes.fromhex(c["seed_hex"])
    text = json.dumps(c["file"], ensure_ascii=False)
    try:
        got = client_files.read_locked_key(text, c["passphrase"])
    except client_files.LockedKeyError as e:
        got = e
    check("locked key file: opens with its passphrase to seed_hex", got == seed, f"got {got!r}")
    check("locked key file: the seed's public key is file.public_key",
          public_key(seed).hex() == c["file"]["public_key"], public_key(seed).hex())
    try:
        got = client_files.read_locked_key(text, c["passphrase_decomposed"])
    except client_files.LockedKeyError as e:
        got = e
    check("locked key file: opens with the passphrase typed decomposed (NFD), normalized to NFC",
          got == seed and c["passphrase_decomposed"] != c["passphrase"], f"got {got!r}")
    got = locked_key_refusal(c["file"], c["wrong_passphrase"])
    check("locked key file: the wrong passphrase refused", got == "box", f"expected box, got {got}")
    for alt in c["altered"]:
        want = CLIENT_FILE_REFUSALS.get(alt["refused"])
        got = locked_key_refusal(alt["file"], c["passphrase"])
        check(f"locked key file refused: {alt['what']}",
              got is not None and (want is None or got == want), f"expected {want or 'a refusal'}, got {got}")

    # Each refusal rule of section 16.2 on a copy of the file, one fault each
    # (this reader's reading of the section; no Rust output involved).
    def altered(edit):
        obj = copy.deepcopy(c["file"])
        edit(obj)
        return obj

    def nonce_of(n):
        return lambda o: o.update(nonce=base64.b64encode(bytes(n)).decode())

    rules = [
        ("format dauys-locked-key/2", lambda o: o.update(format="dauys-locked-key/2"), "format"),
        ("cipher xchacha20poly1305", lambda o: o.update(cipher="xchacha20poly1305"), "cipher"),
        ("kdf.name argon2i", lambda o: o["kdf"].update(name="argon2i"), "kdf"),
        ("kdf.version 16 (0x10)", lambda o: o["kdf"].update(version=16), "kdf"),
        ("an unknown field", lambda o: o.update(comment="x"), "malformed"),
        ("an unknown kdf field", lambda o: o["kdf"].update(secret=""), "malformed"),
        ("parallelism 2", lambda o: o["kdf"].update(parallelism=2), "kdf_range"),
        ("parallelism 0", lambda o: o["kdf"].update(parallelism=0), "kdf_range"),
        ("memory_kib 7", lambda o: o["kdf"].update(memory_kib=7), "kdf_range"),
        ("memory_kib 1048577", lambda o: o["kdf"].update(memory_kib=1048577), "kdf_range"),
        ("iterations 0", lambda o: o["kdf"].update(iterations=0), "kdf_range"),
        ("iterations 17", lambda o: o["kdf"].update(iterations=17), "kdf_range"),
        ("a nonce of 23 bytes", nonce_of(23), "length"),
        ("a nonce of 25 bytes", nonce_of(25), "length"),
    ]
    for label, edit, want in rules:
        got = locked_key_refusal(altered(edit), c["passphrase"])
        check(f"locked key file refused (section 16.2): {label}", got == want, f"expected {want}, got {got}")

    # The bounds are inclusive; the box is NaCl's tag-first crypto_secretbox.
    for memory_kib, iterations in ((8, 1), (8, 16)):
        obj = json.loads(client_files.write_locked_key(seed, c["passphrase"], memory_kib, iterations))
        got = locked_key_refusal(obj, c["passphrase"])
        check(f"locked key file written and read back: memory_kib {memory_kib}, iterations {iterations}",
              got is None and client_files.read_locked_key(json.dumps(obj), c["passphrase"]) == seed,
              f"refused: {got}")
    timings["client_files"] = time.monotonic() - started


if __name__ == "__main__":
    check_fixtures()
    vectors = json.load(open(os.path.join(ROOT, "vectors.json")))
    check_vectors("vectors format 1", vectors, 1)
    check_vectors("vectors format 2", vectors["format_2"], 2)
    check_screen_cases(vectors["screen"])
    check_section_10_examples()
    tlog_keys = check_tlog_vectors(vectors)
    check_proofs()
    check_exact_rules(vectors, *tlog_keys)
    check_command_line(vectors, *tlog_keys)
    started = time.monotonic()
    check_keccak_merlin(vectors["secret_format_3"]["merlin"])
    check_ristretto()
    check_x25519()
    check_secret_vectors(vectors["secret_format_3"])
    check_v3_rechained()
    check_v3_synthetic()
    check_client_files(json.load(open(os.path.join(ROOT, "client-files.json"), encoding="utf-8")))
    print(f"(format 3: the v3 fixtures {timings['v3']:.1f} s; Keccak, Merlin, ristretto255, the vectors and "
          f"the rechained and synthetic ledgers {time.monotonic() - started:.1f} s, of which synthetic "
          f"{timings['synthetic']:.1f} s)")
    print(f"(confusables.txt {screen.CONFUSABLES_VERSION}; see screen.py for the Unicode data used)")
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)
