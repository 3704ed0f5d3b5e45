#!/usr/bin/env python3
"""Seeds each fuzz target's corpus from the golden fixtures (run by `./dev
fuzz` when a corpus directory is empty): entries, payloads, export lines,
submissions, small exports, and log.dat files in both layouts."""
import base64
import hashlib
import json
import os
import struct
import zlib

root = os.path.join(os.path.dirname(__file__), "..")
fixtures = os.path.join(root, "fixtures")
corpus = os.path.join(os.path.dirname(__file__), "corpus")


def put(target, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def entries_of(text):
    out = []
    for line in text.split(b"\n"):
        if line.startswith(b'{"position":'):
            try:
                out.append(base64.b64decode(json.loads(line)["entry"]))
            except Exception:
                pass
    return out


def payload_of(entry):
    length = struct.unpack(">I", entry[90:94])[0]
    return entry[94:94 + length], entry[58:90], entry[94 + length:]


def log_file(entries, committed):
    if not committed:
        return b"".join(struct.pack(">II", len(e), zlib.crc32(e)) + e for e in entries)
    header = b"DAUYSLOG" + struct.pack(">I", 2)
    out = header + struct.pack(">I", zlib.crc32(header))
    batch = b"".join(struct.pack(">II", len(e), zlib.crc32(e)) + e for e in entries)
    last = hashlib.sha256(entries[-1]).digest()
    commit = struct.pack(">I", 0xFFFFFFFF) + b"DAUYSCMT" + struct.pack(">QII", 0, len(entries), len(batch))
    commit += struct.pack(">I", zlib.crc32(batch)) + last
    commit += struct.pack(">I", zlib.crc32(commit))
    return out + batch + commit


names = ["valid", "v2/valid", "tampered/truncated_line", "v2/tampered/line_with_escape", "v2/valid_edges"]
for name in names:
    text = open(os.path.join(fixtures, name + ".jsonl"), "rb").read()
    entries = entries_of(text)
    for line in text.split(b"\n")[:12]:
        put("export_line", line)
    put("verifier", b"\x07" + text[:20000])
    for entry in entries[:20]:
        put("entry", entry)
        payload, author, signature = payload_of(entry)
        put("payload", payload)
        submission = {"author": author.hex(), "payload": base64.b64encode(payload).decode(), "signature": signature.hex()}
        put("submission", json.dumps(submission).encode())
    if entries and entries[0][8:10] in (b"\x00\x01", b"\x00\x02"):
        put("recovery", log_file(entries[:6], committed=True))
        put("recovery", log_file(entries[:6], committed=False))
# The transparency log's texts: the vectors' checkpoint, cosigned note and
# receipt, an add-checkpoint body, tile paths, an entry bundle.
vectors = json.load(open(os.path.join(fixtures, "vectors.json")))["checkpoint"]
for text in (vectors["checkpoint_text"], vectors["checkpoint_note"], vectors["cosigned_note"], vectors["receipt_entry_2"],
             vectors["log_verifier_key"], vectors["witness_verifier_key"],
             "old 0\n\n" + vectors["checkpoint_note"], "tile/0/x001/234.p/7", "tile/entries/000", "tile/3/000.p/1"):
    put("tlog", text.encode())
bundle = b""
for position in range(3):
    entry = bytes.fromhex(json.load(open(os.path.join(fixtures, "vectors.json")))["format_2"]["ledger"][position]["entry_hex"])
    bundle += struct.pack(">H", len(entry)) + entry
put("tlog", bundle)
print("seeded", corpus)
