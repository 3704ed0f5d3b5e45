"""The transparency log of docs/FORMAT.md section 14 (format 2), in Python.

Written from FORMAT.md alone, with the public C2SP specifications it names
(tlog-checkpoint, signed-note, tlog-cosignature, tlog-proof) and RFC 6962 /
RFC 9162 for the Merkle tree and its proofs. It shares no code with the Rust
implementation: hashlib for SHA-256 and verify.signature_ok (libsodium plus
the key rule of section 5) for every Ed25519 signature.

What is here, in the order of section 14:

* the tree: leaf_hash, node_hash, tree_root (RFC 6962 section 2.1), and, to
  test the verifiers below, the proofs a log would serve: inclusion_path and
  consistency_path (RFC 6962 sections 2.1.1 and 2.1.2);
* proof verification: verify_inclusion and verify_consistency, the
  algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2;
* verifier keys (`name+id+base64(type || key)`): parse_verifier_key,
  verifier_key, key_id;
* signed notes and checkpoints: parse_note, parse_checkpoint_text;
* cosignatures: cosignature_message;
* the trust policy: Policy, verify_checkpoint;
* what a verifier that replayed the log checks: check_against_entries, and
  between two checkpoints: check_extends, check_older, and the checkpoints a
  verifier keeps per log: CheckpointsSeen;
* receipts (tlog-proof): parse_receipt, verify_receipt.

Every refusal raises TlogError with a short reason. Section 14 ends with
"Exact rules for verifiers"; the comments quote the rule each check follows.
Where FORMAT.md still leaves a point open, the comment says "Assumption:" and
what was chosen.
"""
import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field

from verify import Bad, U64_MAX, decode_entry, signature_ok


class TlogError(Exception):
    """A checkpoint, note, key or receipt is malformed or does not verify."""


# --------------------------------------------------------------------------
# Spellings shared by checkpoints, notes, keys and receipts

DECIMAL = re.compile(rb"0|[1-9][0-9]{0,19}")  # no leading zeros; at most 20 digits


def parse_decimal(s, what):
    """Exact rules: "Every number (sizes, `index`, `old`, timestamps in the
    text) is decimal ASCII without leading zeros (`0` for zero) and at most
    2^64 - 1"."""
    if DECIMAL.fullmatch(s) is None or int(s) > U64_MAX:
        raise TlogError(f"{what}: not a decimal without leading zeros")
    return int(s)


def b64decode_canonical(s, what):
    """Exact rules: "Every base64 value of this section (roots, path hashes,
    signature lines, verifier keys, `extra`) is RFC 4648 standard base64 with
    `=` padding and zero trailing bits; any other spelling is malformed"."""
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise TlogError(f"{what}: not base64")
    if base64.b64encode(raw) != (s.encode() if isinstance(s, str) else s):
        raise TlogError(f"{what}: not canonical base64")
    return raw


def valid_key_name(name):
    """Exact rules: a name is "non-empty, no whitespace, no `+`" (signed-note:
    no Unicode space; str.isspace is the Unicode White_Space set plus
    U+001C-U+001F, which a note refuses anyway as control characters)."""
    return name != "" and "+" not in name and not any(c.isspace() for c in name)


# --------------------------------------------------------------------------
# The tree (RFC 6962 section 2.1, SHA-256)

EMPTY_ROOT = hashlib.sha256(b"").digest()  # the tree of 0 leaves: SHA-256("")


def leaf_hash(entry):
    """Leaf i is entry i's exact bytes: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    """An interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n):
    """The largest power of two smaller than n (n >= 2): where MTH splits."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes, lo=0, hi=None):
    """MTH over the leaves lo..hi-1, given their leaf hashes: RFC 6962's
    recursive definition, read literally (each node computed once)."""
    hi = len(hashes) if hi is None else hi
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[lo]
    k = split_point(n)
    return node_hash(mth(hashes, lo, lo + k), mth(hashes, lo + k, hi))


def tree_root(entries):
    """The root of the tree whose leaves are these entries, in order."""
    return mth([leaf_hash(e) for e in entries])


def inclusion_path(hashes, m):
    """RFC 6962 section 2.1.1 PATH(m, D[n]), leaf's sibling first. Used only to
    test verify_inclusion on the fixtures: a verifier never builds proofs."""
    def path(m, lo, hi):
        n = hi - lo
        if n <= 1:
            return []
        k = split_point(n)
        if m < k:
            return path(m, lo, lo + k) + [mth(hashes, lo + k, hi)]
        return path(m - k, lo + k, hi) + [mth(hashes, lo, lo + k)]
    return path(m, 0, len(hashes))


def consistency_path(hashes, m):
    """RFC 6962 section 2.1.2 PROOF(m, D[n]) for 0 < m <= n. Test use only."""
    def subproof(m, lo, hi, whole):
        n = hi - lo
        if m == n:
            return [] if whole else [mth(hashes, lo, hi)]
        k = split_point(n)
        if m <= k:
            return subproof(m, lo, lo + k, whole) + [mth(hashes, lo + k, hi)]
        return subproof(m - k, lo + k, hi, False) + [mth(hashes, lo, lo + k)]
    return subproof(m, 0, len(hashes), True)


# --------------------------------------------------------------------------
# Proof verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2)

def verify_inclusion(leaf, index, size, path, root):
    """True if `path` proves that the leaf hash `leaf` is leaf `index` of the
    tree of `size` leaves whose root is `root` (RFC 9162 section 2.1.3.2)."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False  # the path is too long
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root  # sn != 0: the path is too short


def verify_consistency(size1, size2, path, root1, root2):
    """True if `path` proves that the tree of `size1` leaves with root `root1`
    is a prefix of the tree of `size2` leaves with root `root2`. Exact rules:
    "Consistency from size 0 needs an empty proof and the old root
    `SHA-256("")`; between equal sizes, an empty proof and equal roots; else
    RFC 9162 section 2.1.4.2".

    Assumption: from 0 to 0 both of the first two rules apply (an empty
    proof, root1 = SHA-256("") and root2 = root1); a smaller tree never
    extends a larger one."""
    if size1 > size2:
        return False
    if size1 == 0 and (path or root1 != EMPTY_ROOT):
        return False
    if size1 == size2:
        return not path and root1 == root2
    if size1 == 0:
        return True
    if not path:
        return False
    path = list(path)
    if size1 & (size1 - 1) == 0:  # size1 is an exact power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


# --------------------------------------------------------------------------
# Verifier keys (signed-note): <name>+<key id, 8 lowercase hex>+<base64(type || key)>

ED25519 = 0x01  # a log's key: Ed25519 over the note text
COSIGNATURE_V1 = 0x04  # a witness's key: timestamped Ed25519 cosignature/v1


def key_id(name, type_, key):
    """SHA-256(name || 0x0A || type || key)[0..4]."""
    return hashlib.sha256(name.encode() + b"\x0a" + bytes([type_]) + key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    type: int  # ED25519 or COSIGNATURE_V1
    key: bytes  # 32-byte Ed25519 public key

    @property
    def id(self):
        return key_id(self.name, self.type, self.key)

    def __str__(self):
        return verifier_key(self.name, self.type, self.key)


def verifier_key(name, type_, key):
    """The verifier key string, e.g. the log's
    `<origin>+<id hex>+<base64 of 0x01 || log_key>`."""
    return "%s+%s+%s" % (name, key_id(name, type_, key).hex(),
                         base64.b64encode(bytes([type_]) + key).decode())


def parse_verifier_key(s):
    """-> VerifierKey. Exact rules: "A verifier key is `name+id+key`: the name
    as above, the id exactly 8 lowercase hex digits equal to the key id
    computed from the name, type and key, the key base64 of the type byte and
    32 bytes." The name ends at the first '+' (names have none; the base64
    may). Any type byte parses; which types a policy takes is Policy's rule."""
    name, plus1, rest = s.partition("+")
    hex_id, plus2, b64 = rest.partition("+")
    if not (plus1 and plus2 and valid_key_name(name) and re.fullmatch(r"[0-9a-f]{8}", hex_id)):
        raise TlogError(f"verifier key {s!r}: not name+id+key")
    raw = b64decode_canonical(b64, "verifier key")
    if len(raw) != 33:
        raise TlogError(f"verifier key {s!r}: not a type byte and a 32-byte key")
    vk = VerifierKey(name, raw[0], raw[1:])
    if vk.id.hex() != hex_id:
        raise TlogError(f"verifier key {s!r}: the key id is not the key's")
    return vk


# --------------------------------------------------------------------------
# Signed notes (C2SP signed-note) and checkpoints (C2SP tlog-checkpoint)

SIG_PREFIX = "\u2014 ".encode()  # em dash U+2014, then a space
MAX_NOTE = 1_000_000  # bytes, the whole note
MAX_SIGNATURES = 100  # signature lines, known or not


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes  # 4 bytes
    sig: bytes  # what follows the key id: a signature, or timestamp || signature


@dataclass(frozen=True)
class Note:
    text: bytes  # what is signed: the text with its final LF
    sigs: tuple  # SignatureLine, in order


def parse_note(data):
    """Exact rules: "A signed note is UTF-8 with no control character but LF,
    at most 1,000,000 bytes, and at most 100 signature lines. Its text is
    everything up to the last empty line (with the LF that ends the text).
    Each signature line is `— `, a name (non-empty, no whitespace, no `+`),
    one space, and base64 of at least 5 bytes (4-byte key id, then the
    signature), ended by LF."

    Every line counts toward the 100 and must be so spelled, known or not
    (unknown lines are ignored only once the note parses).

    Assumption: "control character" is read as signed-note reads it, "ASCII
    control characters (those below U+0020)"; DEL and U+0080-U+009F pass
    (section 3 calls all of Cc control characters; section 14 says it uses
    the C2SP specifications unchanged)."""
    if len(data) > MAX_NOTE:
        raise TlogError(f"note: more than {MAX_NOTE} bytes")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise TlogError("note: not UTF-8")
    if any(b < 0x20 and b != 0x0A for b in data):
        raise TlogError("note: control character")
    cut = data.rfind(b"\n\n")
    if cut < 0:
        raise TlogError("note: no empty line before the signatures")
    text, block = data[:cut + 1], data[cut + 2:]
    if not block.endswith(b"\n"):
        raise TlogError("note: no signature line, or the last is not ended by LF")
    lines = block[:-1].split(b"\n")
    if len(lines) > MAX_SIGNATURES:
        raise TlogError(f"note: more than {MAX_SIGNATURES} signature lines")
    sigs = []
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise TlogError("note: a signature line does not start with an em dash and a space")
        name, space, b64 = line[len(SIG_PREFIX):].decode().partition(" ")
        if not space or not valid_key_name(name):
            raise TlogError("note: a signature line has no valid key name")
        raw = b64decode_canonical(b64, "note: signature line")
        if len(raw) < 5:
            raise TlogError("note: a signature shorter than a key id and one byte")
        sigs.append(SignatureLine(name, raw[:4], raw[4:]))
    return Note(text, tuple(sigs))


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes  # 32 bytes
    text: bytes  # the three lines, with their LFs

    @property
    def root_b64(self):
        return base64.b64encode(self.root).decode()


def checkpoint_text(origin, size, root):
    """The checkpoint's text: origin, size, base64 root, each ended by LF."""
    return b"%s\n%d\n%s\n" % (origin.encode(), size, base64.b64encode(root))


def parse_checkpoint_text(text):
    """Exactly three lines, each ended by LF: a non-empty origin, the size in
    decimal without leading zeros, the root in canonical base64 (44
    characters, 32 bytes). Extension lines are refused (section 14)."""
    if not text.endswith(b"\n"):
        raise TlogError("checkpoint: the text does not end with LF")
    lines = text[:-1].split(b"\n")
    if len(lines) > 3:
        raise TlogError("checkpoint: extension lines are refused")
    if len(lines) < 3:
        raise TlogError("checkpoint: fewer than three lines")
    origin, size, root = lines
    if not origin:
        raise TlogError("checkpoint: empty origin")
    root = b64decode_canonical(root, "checkpoint root")
    if len(root) != 32:
        raise TlogError("checkpoint: the root is not 32 bytes")
    return Checkpoint(origin.decode(), parse_decimal(size, "checkpoint size"), root, text)


def cosignature_message(text, timestamp):
    """What a witness signs (tlog-cosignature v1): `cosignature/v1` LF
    `time <timestamp in decimal>` LF, then the checkpoint text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


# --------------------------------------------------------------------------
# The trust policy

MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: a timestamp must not exceed it


@dataclass
class Policy:
    """The log's verifier key, witness verifier keys and a quorum k. Exact
    rules: a policy is refused when its log key is of another type than
    0x01, a witness key of another type than 0x04, two different keys share
    a name and key id, or "the quorum exceeds the number of distinct witness
    public keys. A witness is its public key: listed twice, under one name
    or two, or with several lines, it counts once toward the quorum."

    Identical verifier keys listed twice are kept once; a count toward the
    quorum is per distinct public key.

    Assumption: FORMAT.md does not say what a known line means when two keys
    of the policy have the same name and key id but different keys (a 4-byte
    id can be forced); such a policy is refused as ambiguous, as Go's
    sumdb/note refuses an ambiguous verifier."""
    log: VerifierKey
    witnesses: list = field(default_factory=list)
    quorum: int = 0

    def __post_init__(self):
        if self.log.type != ED25519:
            raise TlogError("policy: the log key is not an Ed25519 (0x01) key")
        if any(w.type != COSIGNATURE_V1 for w in self.witnesses):
            raise TlogError("policy: a witness key is not a cosignature/v1 (0x04) key")
        self.witnesses = list(dict.fromkeys(self.witnesses))  # each distinct verifier key once, in order
        distinct = len({w.key for w in self.witnesses})
        if not 0 <= self.quorum <= distinct:
            raise TlogError(f"policy: quorum {self.quorum} of {distinct} distinct witness public keys")
        ids = [(k.name, k.id) for k in [self.log, *self.witnesses]]
        if len(set(ids)) != len(ids):
            raise TlogError("policy: two keys with the same name and key id")


def verify_checkpoint(note, policy):
    """Section 14, "Trusting a checkpoint", with the exact rules. `note` is
    the signed checkpoint (bytes). Returns the Checkpoint, or raises
    TlogError.

    It passes when its origin is the log key's name, the log's signature
    verifies, and at least `quorum` of the listed witnesses' cosignatures
    verify. Exact rules: "A line is *known* when its name and key id are
    those of a key in the policy. Of several known lines with the same name
    and key id, only the first is checked; the others are ignored (as Go's
    `sumdb/note` does). A known line that does not verify (including a
    signature of the wrong length) rejects the note. Unknown lines are
    ignored." "All signatures here use the one rule of section 5
    (`verify_strict`), cosignatures included. A cosignature whose timestamp
    exceeds 2^63 - 1 does not verify. Timestamps are not compared with any
    clock." """
    n = parse_note(note)
    cp = parse_checkpoint_text(n.text)
    if cp.origin != policy.log.name:
        raise TlogError("checkpoint: the origin is not the log key's name")
    witnesses = {(w.name, w.id): w for w in policy.witnesses}
    log_signed, cosigned, checked = False, set(), set()
    for line in n.sigs:
        who = (line.name, line.key_id)
        if who in checked:
            continue  # a later line of a key already checked: ignored
        if who == (policy.log.name, policy.log.id):
            checked.add(who)
            if len(line.sig) != 64 or not signature_ok(policy.log.key, n.text, line.sig):
                raise TlogError("checkpoint: the log's signature does not verify")
            log_signed = True
        elif who in witnesses:
            checked.add(who)
            ok = len(line.sig) == 8 + 64
            timestamp = struct.unpack(">Q", line.sig[:8])[0] if ok else 0
            ok = ok and timestamp <= MAX_TIMESTAMP and signature_ok(
                witnesses[who].key, cosignature_message(n.text, timestamp), line.sig[8:])
            if not ok:
                raise TlogError(f"checkpoint: the cosignature of {line.name} does not verify")
            cosigned.add(witnesses[who].key)  # a witness is its public key
        # else: a key the policy does not list; ignored.
    if not log_signed:
        raise TlogError("checkpoint: no signature by the log key")
    if len(cosigned) < policy.quorum:
        raise TlogError(f"checkpoint: {len(cosigned)} witness cosignature(s), quorum {policy.quorum}")
    return cp


def cosignature_timestamps(note, policy):
    """The timestamp of each listed witness's (first, checked) cosignature
    line in a note that verify_checkpoint accepted: {witness name: timestamp}."""
    witnesses = {(w.name, w.id) for w in policy.witnesses}
    out = {}
    for line in parse_note(note).sigs:
        if (line.name, line.key_id) in witnesses:
            out.setdefault(line.name, struct.unpack(">Q", line.sig[:8])[0])
    return out


# --------------------------------------------------------------------------
# What a verifier checks beyond the signatures

def check_against_entries(cp, entries):
    """A verifier that replayed the log (section 8): the log must have served
    at least `size` entries, and the root must be the tree over the first
    `size` of them (else the log signed another history: a fork). Exact
    rules: only "when the log verified (section 8)"; a refusal "makes the
    verdict invalid without a position or code of section 9" (the caller,
    verify.py, prints no position)."""
    if cp.size > len(entries):
        raise TlogError(f"the checkpoint names {cp.size} entries, the log served {len(entries)}")
    if tree_root(entries[:cp.size]) != cp.root:
        raise TlogError(f"the root is not the tree over the first {cp.size} entries (fork)")


def check_extends(kept, new, proof):
    """A later checkpoint `new` against the largest one `kept` for the same
    log: it must not be smaller, and the consistency proof `proof` (list of
    hashes) must show the tree of `kept` is its prefix. Anything else is a
    fork. (Same log: the caller, CheckpointsSeen, keys by origin and log key;
    here only the origins can be compared.)"""
    if kept.origin != new.origin:
        raise TlogError("another log's checkpoint")
    if new.size < kept.size:
        raise TlogError(f"the checkpoint is smaller than the one kept ({new.size} < {kept.size})")
    if not verify_consistency(kept.size, new.size, proof, kept.root, new.root):
        raise TlogError("the consistency proof fails: the log signed two histories (fork)")


def check_older(cp, latest, proof):
    """A checkpoint other than the one a log presents as its latest (one in a
    receipt, say) against that latest one. Exact rules: "An older
    checkpoint, like one in a receipt, is checked by a consistency proof to
    the latest, never against the checkpoints seen."

    Assumption: a receipt's checkpoint can be newer than the latest served
    (section 14, Witnesses: the served checkpoint trails the log, a `201`
    receipt does not); then the proof goes from the latest to it. Either
    way it is a proof between the two ("Checking it later against a newer
    checkpoint is a consistency proof between the two")."""
    if cp.origin != latest.origin:
        raise TlogError("another log's checkpoint")
    small, large = (cp, latest) if cp.size <= latest.size else (latest, cp)
    if not verify_consistency(small.size, large.size, proof, small.root, large.root):
        raise TlogError("the consistency proof fails: the log signed two histories (fork)")


class CheckpointsSeen:
    """What a verifier keeps: "A verifier keeps the largest checkpoint it has
    verified per log (origin and key); a later checkpoint must not be
    smaller, and the tree over its first `size_before` entries must have the
    root kept". Exact rules: this "applies to the checkpoint a log presents
    as its latest"; older ones go to check_older and leave it unchanged."""

    def __init__(self):
        self.kept = {}  # (origin, log key bytes) -> Checkpoint

    def get(self, log_key):
        return self.kept.get((log_key.name, log_key.key))

    def present_latest(self, note, policy, proof=()):
        """A log presents `note` as its latest checkpoint: it must pass the
        policy and extend the one kept for (origin, log key) by `proof` (a
        consistency proof from the kept size). Kept if larger. -> Checkpoint."""
        cp = verify_checkpoint(note, policy)
        kept = self.get(policy.log)
        if kept is not None:
            check_extends(kept, cp, list(proof))
        if kept is None or cp.size > kept.size:
            self.kept[(policy.log.name, policy.log.key)] = cp
        return cp


# --------------------------------------------------------------------------
# Receipts (C2SP tlog-proof, version 1)

RECEIPT_HEADER = b"c2sp.org/tlog-proof@v1"
MAX_PATH = 63


@dataclass(frozen=True)
class Receipt:
    extra: bytes  # the entry's bytes
    index: int
    path: tuple  # inclusion-path hashes, leaf's sibling first
    note: bytes  # the signed checkpoint, with any cosignatures


def parse_receipt(data):
    """The receipt text of section 14, spelled exactly: the header line,
    `extra <base64>`, `index <decimal>`, 0 to 63 lines of one base64 hash
    each, an empty line, then the signed checkpoint (the rest of the text,
    parsed by verify_checkpoint). "The `extra` line is required here (C2SP
    makes it optional); at most 63 path lines; any other spelling is
    malformed." An empty `extra` spells no entry; verify_receipt refuses it."""
    at = 0

    def line():
        nonlocal at
        end = data.find(b"\n", at)
        if end < 0:
            raise TlogError("receipt: a line is not ended by LF")
        out, at = data[at:end], end + 1
        return out

    if line() != RECEIPT_HEADER:
        raise TlogError("receipt: not c2sp.org/tlog-proof@v1")
    extra = line()
    if not extra.startswith(b"extra "):
        raise TlogError("receipt: no extra line")
    extra = b64decode_canonical(extra[len(b"extra "):], "receipt extra")
    index = line()
    if not index.startswith(b"index "):
        raise TlogError("receipt: no index line")
    index = parse_decimal(index[len(b"index "):], "receipt index")
    path = []
    while True:
        hash_line = line()
        if hash_line == b"":
            break
        if len(path) == MAX_PATH:
            raise TlogError("receipt: more than 63 path lines")
        h = b64decode_canonical(hash_line, "receipt path line")
        if len(h) != 32:
            raise TlogError("receipt: a path line is not a 32-byte hash")
        path.append(h)
    return Receipt(extra, index, tuple(path), data[at:])


def verify_receipt(data, policy):
    """-> (Receipt, Checkpoint, Entry), or raises TlogError. "A receipt
    verifies when its checkpoint passes the policy, the `extra` bytes decode
    as an entry (section 2) whose `position` equals `index`, `index` is below
    the checkpoint's size, and the inclusion path (RFC 9162 section 2.1.3.2)
    from the leaf hash `SHA-256(0x00 || extra)` at `index` leads to the
    checkpoint's root." Checked in that order.

    Its checkpoint is not checked against the checkpoints seen (exact rules);
    against a log's latest, see check_older. Assumption: "decode as an entry
    (section 2)" is decode_entry alone (either version, with its limits); the
    entry's signature and the rules of section 9 are not checked."""
    r = parse_receipt(data)
    cp = verify_checkpoint(r.note, policy)
    try:
        entry = decode_entry(r.extra)
    except Bad:
        raise TlogError("receipt: the extra data is not an entry")
    if entry.position != r.index:
        raise TlogError("receipt: the entry's position is not the index")
    if r.index >= cp.size:
        raise TlogError(f"receipt: index {r.index} is not below the size {cp.size}")
    if not verify_inclusion(leaf_hash(r.extra), r.index, cp.size, r.path, cp.root):
        raise TlogError("receipt: the inclusion path does not lead to the checkpoint's root")
    return r, cp, entry
