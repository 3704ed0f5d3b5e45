#!/usr/bin/env python3
"""A second dauys verifier, written from docs/FORMAT.md alone, in Python.

It shares no code with the Rust verifier: hashlib for SHA-256, libsodium
(PyNaCl) for the Ed25519 equation, a few lines of field arithmetic for the
key rule, and the text screen in screen.py. `check_fixtures.py` runs it over
every fixture and compares the first bad position and reason with
fixtures/expected.json, so a gap or an ambiguity in FORMAT.md shows up as a
disagreement. It verifies format 1, format 2 and format 3 ledgers; format 3's
secret referendums (section 15: the key ceremony, secret ballots, decryption
shares and the declaration) are checked with secret.py, which uses
ristretto255.py and merlin.py (pure Python) and PyNaCl's crypto_box.

Section numbers in comments refer to docs/FORMAT.md.

Usage:
  verify.py EXPORT.jsonl
      -> prints "valid N HEAD ROOT" (ROOT: the RFC 6962 root of the entries,
         base64, section 14) or "invalid POS CODE"
  verify.py EXPORT.jsonl --checkpoint NOTE [--witness VKEY]... [--quorum K]
      -> also checks a signed checkpoint against the replayed log (formats 2 and 3),
         only when the log verified: signed by the genesis log key under the
         genesis origin, cosigned by K of the witnesses, its root the tree
         over its first `size` entries. A refused checkpoint makes the
         verdict "invalid checkpoint: REASON", with no position or code
         (section 14, exact rules).
  verify.py receipt FILE --log-key VKEY [--witness VKEY]... [--quorum K]
      -> verifies a tlog-proof receipt offline (section 14)
Exit status: 0 if everything checked holds, 1 if not, 2 on a usage error.
The transparency log (section 14) is in tlog.py.
"""
import base64
import binascii
import hashlib
import re
import struct
import sys
from dataclasses import dataclass, field
from typing import Optional

import nacl.exceptions
import nacl.signing

import secret
from screen import Screen, term_words

U64_MAX = 2**64 - 1


def sat_add(x, y):
    """'x + y' on times and durations: min(x + y, 2^64 - 1)."""
    return min(x + y, U64_MAX)


# Section 2: the limits of each format. The fields around the payload take
# 158 bytes, so each entry limit is its payload limit + 158.
@dataclass(frozen=True)
class Limits:
    max_payload: int
    max_entry: int
    max_time: int


FORMATS = {
    1: Limits(max_payload=65_536, max_entry=65_694, max_time=U64_MAX),
    2: Limits(max_payload=65_377, max_entry=65_535, max_time=253_402_300_799_999),
}
# Format 3 is format 2 with secret referendums (sections 1 and 15): the same
# limits. Assumption: section 2's table has columns for formats 1 and 2 only;
# "format 2" there is read as "format 2 and 3" (the convention of the preamble).
FORMATS[3] = FORMATS[2]
MAX_LINE = 131_584  # section 7, without the LF
PAYLOAD_HEADER = 51  # magic, version, ledger_id, kind, nonce


class Bad(Exception):
    """Ends verification: the entry at the expected position gets `code`."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


# --------------------------------------------------------------------------
# Section 5: keys and signatures

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
# The canonical encodings of the eight points of small order.
SMALL_ORDER = {
    bytes.fromhex(h)
    for h in [
        "0100000000000000000000000000000000000000000000000000000000000000",  # identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
    ]
}


def is_canonical_point(key):
    """True if the 32 bytes decode to an edwards25519 point and re-encoding
    that point gives the same bytes (RFC 8032 section 5.1.3 decoding)."""
    y = int.from_bytes(key, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= P:
        return False  # would re-encode as y mod p
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return False  # not on the curve
    return not (x == 0 and sign)  # "-0" would re-encode with sign 0


def key_acceptable(key):
    """Canonical encoding of a point that is not of small order. Points with a
    torsion component (mixed order) are acceptable: FORMAT.md asks only this."""
    return is_canonical_point(key) and key not in SMALL_ORDER


def signature_ok(author, payload, signature):
    """verify_strict: acceptable key, S < L, R not of small order, and the
    cofactorless equation compared on R's encoding.

    libsodium's crypto_sign_verify_detached (default build) checks S < L,
    refuses small-order R encodings and computes [S]B - [k]A cofactorless,
    comparing the encoding with R. It is stricter than FORMAT.md on no key
    that passes key_acceptable, so the key rule is checked here first."""
    if not key_acceptable(author):
        return False
    if int.from_bytes(signature[32:], "little") >= L or signature[:32] in SMALL_ORDER:
        return False  # also refused by libsodium; stated here for the reader
    try:
        nacl.signing.VerifyKey(author).verify(payload, signature)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


# --------------------------------------------------------------------------
# Sections 2-4: decoding. Every value has one encoding; nothing is rebuilt.

class Reader:
    """Big-endian reader. `fmt` is the format whose string rule applies."""

    def __init__(self, data, fmt=1):
        self.data, self.at, self.fmt = data, 0, fmt

    def take(self, n):
        if self.at + n > len(self.data):
            raise Bad("truncated")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def count(self, lo, hi):
        n = self.u32()
        if not lo <= n <= hi:
            raise Bad("range")
        return n

    def bytes_(self, lo, hi):
        return self.take(self.count(lo, hi))

    def str_(self, lo, hi):
        try:
            s = self.bytes_(lo, hi).decode("utf-8")
        except UnicodeDecodeError:
            raise Bad("utf8")
        # Section 3, format 2: no Cc code point (U+0000-001F, U+007F-009F)
        # other than U+000A LINE FEED.
        if self.fmt >= 2 and any(
                (c < 0x20 and c != 0x0A) or 0x7F <= c <= 0x9F for c in map(ord, s)):
            raise Bad("control")
        return s

    def end(self):
        if self.at != len(self.data):
            raise Bad("trailing")


@dataclass
class Entry:
    version: int
    position: int
    prev_hash: bytes
    time_ms: int
    author: bytes
    payload: bytes
    signature: bytes


def decode_entry(raw):
    """Section 2, with the limits of the entry's own version -> Entry."""
    r = Reader(raw)
    try:
        if r.take(8) != b"DAUYSENT":
            raise Bad("magic")
        version = r.u16()
        limits = FORMATS.get(version)
        if limits is None or len(raw) > limits.max_entry:
            raise Bad("version or length")
        entry = Entry(version=version, position=r.u64(), prev_hash=r.take(32), time_ms=r.u64(),
                      author=r.take(32), payload=r.bytes_(0, limits.max_payload), signature=r.take(64))
        r.end()
        if entry.time_ms > limits.max_time:
            raise Bad("time")
    except Bad:
        raise Bad("malformed_entry")
    return entry


# Kinds (section 3).
LEDGER_OPENED, VOTERS_ENROLLED, VOTER_REMOVED, PETITION_FILED, PETITION_SUPPORTED, \
    PAPER_SUPPORTS_RECORDED, PETITION_WITHDRAWN, CONTENT_ADMITTED, COUNCIL_RULED, \
    REFERENDUM_CALLED, BALLOT_CAST, RESULT_DECLARED = range(1, 13)
# Format 3 only (section 15.2); in formats 1 and 2 their tags are malformed.
TRUSTEE_COMMITTED, TRUSTEE_DEALT, TRUSTEE_SHARES_SENT, TRUSTEE_COMPLAINED, \
    DECRYPTION_SHARED = range(13, 18)


def decode_payload(payload):
    """Sections 3-4, with the payload's own version -> dict of fields."""
    try:
        if len(payload) < PAYLOAD_HEADER:
            raise Bad("short")
        r = Reader(payload)
        if r.take(8) != b"DAUYSEVT":
            raise Bad("magic")
        version = r.u16()
        if version not in FORMATS or len(payload) > FORMATS[version].max_payload:
            raise Bad("version")
        r.fmt = version
        p = dict(version=version, ledger_id=r.take(32), kind=r.u8(), nonce=r.u64())
        _decode_body(r, p)
        r.end()
    except Bad:
        raise Bad("malformed_payload")
    p["body"] = payload[PAYLOAD_HEADER:]
    return p


def _decode_body(r, p):
    k = p["kind"]
    if k == LEDGER_OPENED:
        p["jurisdiction"] = r.str_(1, 200)
        p["origin"] = r.str_(1, 255) if p["version"] >= 2 else None
        p.update(commission_key=r.take(32), log_key=r.take(32), council_key=r.take(32),
                 signing_period_ms=r.u64(), council_response_period_ms=r.u64(),
                 referendum_window_min_ms=r.u64(), referendum_window_max_ms=r.u64(),
                 threshold_supports_min=r.u64(), threshold_share_bp=r.u16(),
                 approval_share_bp=r.u16(), yes_share_of_electorate_bp=r.u16())
        subjects = []
        for _ in range(r.count(1, 64)):
            sid = r.str_(1, 64)
            excluded = r.u8()
            if excluded not in (0, 1):
                raise Bad("excluded")
            terms = [r.str_(1, 100) for _ in range(r.count(0, 128))]
            subjects.append((sid, excluded == 1, terms))
        p["subjects"] = subjects
    elif k == VOTERS_ENROLLED:
        p["district"] = r.str_(0, 64)
        p["keys"] = [r.take(32) for _ in range(r.count(1, 1000))]
    elif k == VOTER_REMOVED:
        p.update(key=r.take(32), reasons=r.str_(1, 5000))
    elif k == PETITION_FILED:
        p.update(subject=r.str_(1, 64), title=r.str_(1, 200), text=r.str_(1, 10000))
    elif k == PETITION_SUPPORTED:
        p.update(petition=r.take(32))
    elif k == PAPER_SUPPORTS_RECORDED:
        p.update(petition=r.take(32), count=r.u64(), sheets_sha256=r.take(32))
        if not 1 <= p["count"] <= 10_000_000:
            raise Bad("count")
    elif k == PETITION_WITHDRAWN:
        p.update(petition=r.take(32), reasons=r.str_(0, 5000))
    elif k == CONTENT_ADMITTED:
        p.update(content=r.take(32), reasons=r.str_(1, 5000))
    elif k == COUNCIL_RULED:
        p.update(petition=r.take(32), decision=r.u8())
        if p["decision"] not in (1, 2):
            raise Bad("decision")
        p["reasons"] = r.str_(1, 5000)
    elif k == REFERENDUM_CALLED:
        p.update(petition=r.take(32), subject=r.str_(1, 64), question=r.str_(1, 1000))
        p["options"] = [r.str_(1, 200) for _ in range(r.count(2, 8))]
        p.update(opens_at_ms=r.u64(), closes_at_ms=r.u64())
        if p["version"] == 3:
            # Section 4: trustees list<bytes32>(2..16), threshold u8 with
            # 2 <= threshold <= the number of trustees (outside is malformed).
            p["trustees"] = [r.take(32) for _ in range(r.count(2, 16))]
            p["threshold"] = r.u8()
            if not 2 <= p["threshold"] <= len(p["trustees"]):
                raise Bad("threshold")
    elif k == BALLOT_CAST:
        p["referendum"] = r.take(32)
        p["ballot_version"] = r.u8()
        if p["version"] < 3:
            if p["ballot_version"] != 1:  # formats 1 and 2 know the open ballot only
                raise Bad("ballot_version")
            p["choice"] = r.u8()
        else:
            if p["ballot_version"] != 2:  # format 3 knows the secret ballot only
                raise Bad("ballot_version")
            # Section 15.3: options u32 (2..8), then 160 bytes per option and
            # the 64-byte sum proof. The elements and scalars are kept as
            # bytes: a non-canonical one is invalid_ballot, not malformed.
            p["options"] = r.count(2, 8)
            p["ballot"] = r.take(secret.OPTION_BYTES * p["options"] + secret.SUM_PROOF_BYTES)
    elif k == RESULT_DECLARED:
        p["referendum"] = r.take(32)
        p["tally"] = [r.u64() for _ in range(r.count(2, 8))]
        p["outcome"] = r.u8()
        if p["outcome"] not in (1, 2):
            raise Bad("outcome")
    elif k in (TRUSTEE_COMMITTED, TRUSTEE_DEALT, TRUSTEE_SHARES_SENT, TRUSTEE_COMPLAINED,
               DECRYPTION_SHARED) and p["version"] == 3:
        _decode_secret_body(r, p)
    else:
        raise Bad("kind")


def _decode_secret_body(r, p):
    """Section 15.2: the bodies of kinds 13-17 (format 3 only). Elements and
    scalars are kept as their bytes: FORMAT.md gives the codes for
    non-canonical ones in the rules (ceremony_step_invalid for a dealt
    polynomial, invalid_decryption_share for a share), not at decoding."""
    k = p["kind"]
    p["referendum"] = r.take(32)
    if k == TRUSTEE_COMMITTED:
        p.update(commitment=r.take(32), box_key=r.take(32))
    elif k == TRUSTEE_DEALT:
        count = r.count(2, 16)
        p["polynomial"] = [r.take(32) for _ in range(count)]
        p["proof"] = [r.take(32) for _ in range(count + 1)]  # c, then one response per coefficient
        p["opening"] = r.take(32)
    elif k == TRUSTEE_SHARES_SENT:
        p["shares"] = [(r.take(24), r.take(48)) for _ in range(r.count(1, 15))]
    elif k == TRUSTEE_COMPLAINED:
        p.update(accused=r.u8(), box_secret=r.take(32))
    elif k == DECRYPTION_SHARED:
        p["options"] = r.count(2, 8)
        p["share"] = r.take(secret.SHARE_BYTES * p["options"])


def content_hash(body):
    """Section 4: SHA-256("dauys/content/v1" || 0x00 || body)."""
    return hashlib.sha256(b"dauys/content/v1\x00" + body).digest()


# --------------------------------------------------------------------------
# Section 9: the rules

MAX_VOTERS_EVER, MAX_DISTRICTS, MAX_PETITIONS, MAX_REFERENDUMS = 20_000_000, 10_000, 1_000_000, 100_000
COMMISSION_KINDS = {VOTERS_ENROLLED, VOTER_REMOVED, PAPER_SUPPORTS_RECORDED, CONTENT_ADMITTED,
                    REFERENDUM_CALLED, RESULT_DECLARED}
VOTER_KINDS = {PETITION_FILED, PETITION_SUPPORTED, BALLOT_CAST}
REQUIRED_EXCLUDED = ("budget", "staffing", "internal-organisation")


@dataclass
class Voter:
    enrolled: bool
    district: str
    enrolled_at: int  # position of the enrolment that made them currently enrolled


@dataclass
class District:
    enrolled: int = 0
    online_supports: int = 0
    ballots: int = 0


@dataclass
class Petition:
    initiator: bytes
    threshold: int
    signing_deadline: int
    online: int = 0
    paper: int = 0
    qualified_at: Optional[int] = None
    withdrawn: bool = False
    decision: int = 0  # 0 none, 1 accept, 2 reject
    in_referendum: bool = False
    referendum: Optional[bytes] = None  # (format 3) the id of its current referendum


@dataclass
class Ceremony:
    """Format 3: a referendum's trustees and key ceremony (section 15.2), its
    counted ballots (15.3) and its decryption shares (15.4)."""
    trustees: list  # Ed25519 keys in index order
    threshold: int
    committed: dict = field(default_factory=dict)  # index -> (commitment, box_key)
    dealt: dict = field(default_factory=dict)  # index -> decoded coefficients C_0..C_{t-1}
    sent: dict = field(default_factory=dict)  # index -> [(nonce, sealed)], box to j in index order skipping i
    failed: bool = False
    complete: bool = False
    key_shares: list = field(default_factory=list)  # X_j (points), once complete
    key: Optional[object] = None  # secret.ElectionKey, once complete
    ballots: dict = field(default_factory=dict)  # voter key -> [(R_i, B_i)] of their counted ballot
    shares: list = field(default_factory=list)  # [(trustee index, [D_i])] in log order

    def index(self, key):
        """The author's trustee index (its position in the call's list; no
        key is listed twice, else the call was bad_trustees), or None."""
        return self.trustees.index(key) if key in self.trustees else None


@dataclass
class Referendum:
    position: int  # of its referendum_called entry
    options: int
    opens_at_ms: int
    closes_at_ms: int
    electorate: int
    tally: list = field(default_factory=list)
    declared: bool = False
    ceremony: Optional[Ceremony] = None  # format 3


def screen_format(fmt):
    """Section 10 defines the screen of format 1 and of format 2; format 3
    uses format 2's (section 1: every rule of format 2 holds in format 3)."""
    return 1 if fmt == 1 else 2


def genesis_ok(entry, g):
    """Section 9, genesis: every condition, else bad_genesis."""
    fmt = entry.version
    roles = [g["commission_key"], g["log_key"], g["council_key"]]
    ids = [sid for sid, _, _ in g["subjects"]]
    excluded = {sid for sid, ex, _ in g["subjects"] if ex}
    return (
        entry.author == g["commission_key"]
        and all(key_acceptable(k) for k in roles) and len(set(roles)) == 3
        and (fmt == 1 or re.fullmatch(r"[\x21-\x2a\x2c-\x7e]+", g["origin"]) is not None)
        and g["signing_period_ms"] > 0 and g["council_response_period_ms"] > 0
        and 0 < g["referendum_window_min_ms"] <= g["referendum_window_max_ms"]
        and max(g["threshold_share_bp"], g["approval_share_bp"], g["yes_share_of_electorate_bp"]) <= 10_000
        and (g["threshold_supports_min"] > 0 or g["threshold_share_bp"] > 0)
        and all(re.fullmatch(r"[a-z0-9-]+", sid) for sid in ids) and len(set(ids)) == len(ids)
        and all(ex or not terms for _, ex, terms in g["subjects"])
        and all(sid in excluded for sid in REQUIRED_EXCLUDED)
        and all(term_words(screen_format(fmt), term) for _, _, terms in g["subjects"] for term in terms)
    )


def check_dealt_polynomial(n, t, commitment, polynomial, proof, opening):
    """Section 15.2, Dealt polynomial, checks 1-3 in order. Returns the decoded
    coefficients; raises Bad with the first failing check's code."""
    if len(polynomial) != t:
        raise Bad("ceremony_step_invalid")
    if secret.commitment_of(polynomial[0], opening) != commitment:
        raise Bad("commitment_mismatch")
    coeffs = secret.verify_pop(n, t, polynomial, proof)
    if coeffs is None:
        raise Bad("ceremony_step_invalid")
    return coeffs


class Ledger:
    """The state of section 9, built from an accepted genesis."""

    def __init__(self, entry, p):
        if p["kind"] != LEDGER_OPENED or not genesis_ok(entry, p):
            raise Bad("bad_genesis")
        self.format = entry.version
        self.g = p
        self.id = p["ledger_id"]
        self.roles = {p["commission_key"], p["log_key"], p["council_key"]}
        self.screen = Screen(screen_format(self.format), p["subjects"])
        self.voters = {}  # key -> Voter, every key ever enrolled
        self.enrolled = 0  # voters currently enrolled
        self.districts = {}  # label -> District
        self.petitions = {}  # id (entry hash) -> Petition
        self.referendums = {}  # id (entry hash) -> Referendum
        self.supports = set()  # (petition, voter)
        self.ballots = set()  # (referendum, voter)
        self.admissions = set()  # pending content hashes
        # Format 1: SHA-256 of every accepted payload -> its position.
        # Assumption: the genesis is an accepted act, so its payload is in
        # the set (a later copy of it is duplicate_payload).
        self.payload_hashes = {hashlib.sha256(entry.payload).digest(): 0}
        # Format 2: nonce records. The commission's first nonce is the
        # genesis's; the council has a record with no nonce yet (None), as
        # does each key when first enrolled. Assumption: FORMAT.md does not
        # say what a record without an accepted act requires; here it
        # accepts any nonce, 0 included.
        self.nonces = {p["commission_key"]: p["nonce"], p["council_key"]: None}

    # --- helpers -------------------------------------------------------

    def status(self, pet, t):
        """Petition status at time t, in the order of section 9."""
        if pet.in_referendum:
            return "in_referendum"
        if pet.decision:
            return "accepted" if pet.decision == 1 else "rejected"
        if pet.withdrawn:
            return "withdrawn"
        if pet.qualified_at is not None:
            overdue = t >= sat_add(pet.qualified_at, self.g["council_response_period_ms"])
            return "ruling_overdue" if overdue else "awaiting_ruling"
        return "lapsed" if t >= pet.signing_deadline else "collecting"

    def currently_enrolled(self, key):
        voter = self.voters.get(key)
        return voter is not None and voter.enrolled

    def petition(self, pid):
        pet = self.petitions.get(pid)
        if pet is None:
            raise Bad("unknown_petition")
        return pet

    def referendum(self, rid):
        ref = self.referendums.get(rid)
        if ref is None:
            raise Bad("unknown_referendum")
        return ref

    def check_subject(self, sid):
        found = [ex for s, ex, _ in self.g["subjects"] if s == sid]
        if not found:
            raise Bad("unknown_subject")
        if found[0]:
            raise Bad("excluded_subject")

    def check_screen(self, texts, body):
        """Returns the admission this act consumes (or None); screened_text if
        a term matches and the content hash is not a pending admission."""
        if self.screen.first_match(texts) is None:
            return None
        admission = content_hash(body)
        if admission not in self.admissions:
            raise Bad("screened_text")
        return admission

    def check_collecting(self, pet, now):
        """The checks of a support, except the voter's."""
        if pet.withdrawn or pet.decision or pet.in_referendum or \
                (self.format >= 2 and self.status(pet, now) == "ruling_overdue"):
            raise Bad("petition_not_collecting")
        if not now < pet.signing_deadline:
            raise Bad("outside_signing_period")

    def count_support(self, pet, now, online=0, paper=0):
        pet.online += online
        pet.paper += paper
        if pet.qualified_at is None and pet.online + pet.paper >= pet.threshold:
            pet.qualified_at = now  # the first time the threshold is reached

    # --- every later entry ---------------------------------------------

    def apply(self, entry, p, ehash):
        author, k = entry.author, p["kind"]
        if p["ledger_id"] != self.id:
            raise Bad("wrong_ledger")
        if self.format == 1:
            if hashlib.sha256(entry.payload).digest() in self.payload_hashes:
                raise Bad("duplicate_payload")
        elif author in self.nonces:
            last = self.nonces[author]
            if last is not None and not p["nonce"] > last:
                raise Bad("stale_nonce")

        # Role checks first for their kinds. Assumption: ledger_opened is not
        # a "commission kind" here; it is genesis_repeated whoever signs it.
        if k == LEDGER_OPENED:
            raise Bad("genesis_repeated")
        if k in COMMISSION_KINDS and author != self.g["commission_key"]:
            raise Bad("wrong_role")
        if k == COUNCIL_RULED and author != self.g["council_key"]:
            raise Bad("wrong_role")
        if k in VOTER_KINDS and not self.currently_enrolled(author):
            raise Bad("not_enrolled")

        RULES[k](self, entry, p, ehash)

        # Accepted.
        if self.format == 1:
            self.payload_hashes[hashlib.sha256(entry.payload).digest()] = entry.position
        else:
            self.nonces[author] = p["nonce"]

    # --- the kinds -----------------------------------------------------

    def voters_enrolled(self, entry, p, ehash):
        seen = set()
        for key in p["keys"]:
            if not key_acceptable(key):
                raise Bad("weak_voter_key")
            if key in self.roles:
                raise Bad("role_key_as_voter")
            if self.currently_enrolled(key) or key in seen:
                raise Bad("already_enrolled")
            seen.add(key)
        new = [key for key in p["keys"] if key not in self.voters]
        if len(self.voters) + len(new) > MAX_VOTERS_EVER:
            raise Bad("limit_exceeded")
        if p["district"] not in self.districts and len(self.districts) >= MAX_DISTRICTS:
            raise Bad("limit_exceeded")
        district = self.districts.setdefault(p["district"], District())
        for key in p["keys"]:
            self.voters[key] = Voter(enrolled=True, district=p["district"], enrolled_at=entry.position)
            self.nonces.setdefault(key, None)  # a nonce record for every key ever enrolled
        district.enrolled += len(p["keys"])
        self.enrolled += len(p["keys"])

    def voter_removed(self, entry, p, ehash):
        if not self.currently_enrolled(p["key"]):
            raise Bad("not_enrolled")
        voter = self.voters[p["key"]]
        voter.enrolled = False
        self.districts[voter.district].enrolled -= 1
        self.enrolled -= 1

    def petition_filed(self, entry, p, ehash):
        self.check_subject(p["subject"])
        admission = self.check_screen([p["title"], p["text"]], p["body"])
        if len(self.petitions) >= MAX_PETITIONS:
            raise Bad("limit_exceeded")
        self.admissions.discard(admission)
        share = -(-self.enrolled * self.g["threshold_share_bp"] // 10_000)  # ceiling
        self.petitions[ehash] = Petition(
            initiator=entry.author, threshold=max(self.g["threshold_supports_min"], share),
            signing_deadline=sat_add(entry.time_ms, self.g["signing_period_ms"]))

    def petition_supported(self, entry, p, ehash):
        pet = self.petition(p["petition"])
        self.check_collecting(pet, entry.time_ms)
        if (p["petition"], entry.author) in self.supports:
            raise Bad("double_support")
        self.supports.add((p["petition"], entry.author))
        self.districts[self.voters[entry.author].district].online_supports += 1
        self.count_support(pet, entry.time_ms, online=1)

    def paper_supports_recorded(self, entry, p, ehash):
        pet = self.petition(p["petition"])
        self.check_collecting(pet, entry.time_ms)
        self.count_support(pet, entry.time_ms, paper=p["count"])

    def petition_withdrawn(self, entry, p, ehash):
        if self.format >= 2 and not self.currently_enrolled(entry.author):
            raise Bad("not_enrolled")
        pet = self.petition(p["petition"])
        if pet.initiator != entry.author:
            raise Bad("not_initiator")
        if self.status(pet, entry.time_ms) not in ("collecting", "awaiting_ruling", "ruling_overdue"):
            raise Bad("petition_not_collecting")
        pet.withdrawn = True

    def content_admitted(self, entry, p, ehash):
        if p["content"] in self.admissions:
            raise Bad("admission_exists")
        self.admissions.add(p["content"])

    def council_ruled(self, entry, p, ehash):
        pet = self.petition(p["petition"])
        status = self.status(pet, entry.time_ms)
        if status in ("collecting", "lapsed"):
            raise Bad("ruling_before_threshold")
        if status == "ruling_overdue":
            raise Bad("ruling_after_deadline")
        if status != "awaiting_ruling":
            raise Bad("not_awaiting_ruling")
        pet.decision = p["decision"]

    def referendum_called(self, entry, p, ehash):
        pet = self.petition(p["petition"])
        if not self.may_call(pet, entry.time_ms):
            raise Bad("referendum_not_allowed")
        self.check_subject(p["subject"])
        admission = self.check_screen([p["question"]] + p["options"], p["body"])
        opens, closes = p["opens_at_ms"], p["closes_at_ms"]
        if not (opens >= entry.time_ms and closes >= opens and
                self.g["referendum_window_min_ms"] <= closes - opens <= self.g["referendum_window_max_ms"]):
            raise Bad("bad_window")
        if self.format == 3:
            # Section 15.2: after the window check and before the limit on
            # referendums, every trustee key is acceptable (section 5), no
            # key is listed twice, and none is the log key.
            trustees = p["trustees"]
            if not (all(key_acceptable(k) for k in trustees) and len(set(trustees)) == len(trustees)
                    and self.g["log_key"] not in trustees):
                raise Bad("bad_trustees")
        if len(self.referendums) >= MAX_REFERENDUMS:
            raise Bad("limit_exceeded")
        self.admissions.discard(admission)
        pet.in_referendum = True
        pet.referendum = ehash  # (format 3) a new call replaces the old as the petition's referendum
        self.referendums[ehash] = Referendum(
            position=entry.position, options=len(p["options"]), opens_at_ms=opens, closes_at_ms=closes,
            electorate=self.enrolled, tally=[0] * len(p["options"]))
        if self.format == 3:
            self.referendums[ehash].ceremony = Ceremony(trustees=p["trustees"], threshold=p["threshold"])
            # Section 15.2, Nonces: "A trustee who is not the commission, the
            # council or a voter has its own nonce record from the call that
            # names it." Section 9, step 2: "the record is the first of these
            # that applies, in that order" (commission, council, ever
            # enrolled, trustee). Assumption (see the report): a key has one
            # record, "the author's last accepted nonce", whichever of these
            # made it first; a trustee enrolled later keeps its nonces, and
            # a voter or role key named as a trustee keeps its own.
            for key in p["trustees"]:
                self.nonces.setdefault(key, None)

    def may_call(self, pet, now):
        """referendum_called's first check. Section 9: the petition's status
        now is rejected or ruling_overdue. Section 15.2, Calling again
        (format 3): the check also passes when the status is in_referendum
        and that referendum is void at now: its ceremony failed (a complaint
        was upheld, before or during voting), or it is not complete and
        now >= its opens_at_ms. (FORMAT.md: such a petition was rejected or
        overdue when that referendum was called; nothing else is checked.)"""
        status = self.status(pet, now)
        if status in ("rejected", "ruling_overdue"):
            return True
        if self.format != 3 or status != "in_referendum":
            return False
        old = self.referendums[pet.referendum]
        c = old.ceremony
        return c.failed or (now >= old.opens_at_ms and not c.complete)

    def ballot_cast(self, entry, p, ehash):
        ref = self.referendum(p["referendum"])
        voter = self.voters[entry.author]
        if self.format >= 2 and not voter.enrolled_at < ref.position:
            raise Bad("not_in_electorate")
        if not ref.opens_at_ms <= entry.time_ms < ref.closes_at_ms:
            raise Bad("ballot_outside_window")
        if self.format == 3:
            return self.secret_ballot(entry, p, ref, voter)
        if not p["choice"] < ref.options:
            raise Bad("choice_out_of_range")
        if (p["referendum"], entry.author) in self.ballots:
            raise Bad("double_ballot")
        self.ballots.add((p["referendum"], entry.author))
        self.districts[voter.district].ballots += 1
        ref.tally[p["choice"]] += 1

    def result_declared(self, entry, p, ehash):
        ref = self.referendum(p["referendum"])
        if not entry.time_ms >= ref.closes_at_ms:
            raise Bad("declared_too_early")
        if ref.declared:
            raise Bad("already_declared")
        if self.format == 3:
            self.check_secret_tally(p, ref)
            tally = p["tally"]  # 15.4: the outcome rule applies to the declared tally
        else:
            if p["tally"] != ref.tally:
                raise Bad("tally_mismatch")
            tally = ref.tally
        # Python integers cannot overflow, as the 128-bit rule requires.
        yes, valid = tally[0], sum(tally)
        approved = (yes * 10_000 > self.g["approval_share_bp"] * valid and
                    yes * 10_000 >= self.g["yes_share_of_electorate_bp"] * ref.electorate)
        if p["outcome"] != (1 if approved else 2):
            raise Bad("outcome_mismatch")
        ref.declared = True

    # --- format 3: secret referendums (section 15) ----------------------

    def ceremony_act(self, entry, p):
        """The first checks of kinds 13-16 (section 15.2, Order and rules):
        the referendum exists; time_ms < opens_at_ms for kinds 13-15 and
        time_ms < closes_at_ms for a complaint (16), else ceremony_closed;
        the author is a trustee; the ceremony has not failed.
        -> (ceremony, author's index)."""
        ref = self.referendum(p["referendum"])
        until = ref.closes_at_ms if p["kind"] == TRUSTEE_COMPLAINED else ref.opens_at_ms
        if not entry.time_ms < until:
            raise Bad("ceremony_closed")
        c = ref.ceremony
        i = c.index(entry.author)
        if i is None:
            raise Bad("not_a_trustee")
        if c.failed:
            raise Bad("ceremony_failed")
        return c, i

    def trustee_committed(self, entry, p, ehash):
        c, i = self.ceremony_act(entry, p)
        if i in c.committed:
            raise Bad("ceremony_step_repeated")
        # Section 15.2: a box_key of small order (X25519(0x01 * 32, box_key)
        # is 32 zero bytes) is ceremony_step_invalid. Assumption (see the
        # report): FORMAT.md states this rule with the body, not in the
        # order of the rules; it is checked here after "once per trustee",
        # as the other kinds check their body (polynomial, shares) last.
        if secret.box_key_small_order(p["box_key"]):
            raise Bad("ceremony_step_invalid")
        c.committed[i] = (p["commitment"], p["box_key"])

    def trustee_dealt(self, entry, p, ehash):
        c, i = self.ceremony_act(entry, p)
        n, t = len(c.trustees), c.threshold
        if i in c.dealt:
            raise Bad("ceremony_step_repeated")
        if len(c.committed) < n:
            raise Bad("ceremony_out_of_order")
        c.dealt[i] = check_dealt_polynomial(n, t, c.committed[i][0], p["polynomial"], p["proof"], p["opening"])

    def trustee_shares_sent(self, entry, p, ehash):
        c, i = self.ceremony_act(entry, p)
        n = len(c.trustees)
        if i in c.sent:
            raise Bad("ceremony_step_repeated")
        if len(c.dealt) < n:
            raise Bad("ceremony_out_of_order")
        if len(p["shares"]) != n - 1:
            raise Bad("ceremony_step_invalid")
        for slot, (nonce, _sealed) in enumerate(p["shares"]):
            j = slot if slot < i else slot + 1  # index order, skipping i
            if nonce != secret.ceremony_nonce(p["referendum"], i, j):
                raise Bad("ceremony_step_invalid")
        if len(c.sent) == n - 1:
            # The last trustee's shares: the ceremony is complete. Every
            # verifier derives X_j and K; an X_j equal to the identity makes
            # this act ceremony_step_invalid.
            shares, key = secret.joint_keys(c.dealt)
            if any(secret.enc(x) == secret.IDENTITY_BYTES for x in shares):
                raise Bad("ceremony_step_invalid")
            c.key_shares, c.key, c.complete = shares, secret.ElectionKey(key), True
        c.sent[i] = p["shares"]

    def trustee_complained(self, entry, p, ehash):
        c, i = self.ceremony_act(entry, p)
        n, a = len(c.trustees), p["accused"]
        if not (a < n and a != i):
            raise Bad("ceremony_step_invalid")
        if i not in c.committed:
            raise Bad("ceremony_out_of_order")
        if secret.box_key_of(p["box_secret"]) != c.committed[i][1]:
            raise Bad("ceremony_step_invalid")
        if a not in c.sent:
            raise Bad("ceremony_step_invalid")
        nonce, sealed = c.sent[a][i if i < a else i - 1]
        plaintext = secret.open_box(sealed, nonce, c.committed[a][1], p["box_secret"])
        if secret.share_matches(plaintext, c.dealt[a], i + 1):
            raise Bad("complaint_unfounded")
        # Upheld: the ceremony fails, and has no election key. Complaints are
        # taken until closes_at_ms, so this may happen during voting, after
        # the ceremony completed and ballots were cast: the referendum is
        # then void (it may be called again) and its ballots are never
        # decrypted; later ballots, shares and the declaration are
        # ceremony_failed.
        c.failed = True
        c.complete, c.key_shares, c.key = False, [], None

    def secret_ballot(self, entry, p, ref, voter):
        """Section 15.3, after not_enrolled, unknown_referendum,
        not_in_electorate and ballot_outside_window."""
        c = ref.ceremony
        if c.failed:
            raise Bad("ceremony_failed")
        if not c.complete:
            raise Bad("ceremony_incomplete")
        if p["options"] != ref.options:
            raise Bad("invalid_ballot")
        # Section 15.2, Joint keys: an election key K equal to the identity
        # is accepted, "and then every ballot is invalid_ballot since K is
        # not a valid key" (whatever its proofs).
        if c.key.bytes == secret.IDENTITY_BYTES:
            raise Bad("invalid_ballot")
        cts = secret.verify_ballot(self.id, p["referendum"], entry.author, c.key, p["options"], p["ballot"])
        if cts is None:
            raise Bad("invalid_ballot")
        # No double_ballot: a later ballot replaces the earlier one. The
        # voter's district counts one ballot however often they vote: the
        # district the voter is enrolled in at their first accepted ballot.
        if entry.author not in c.ballots:
            self.districts[voter.district].ballots += 1
        self.ballots.add((p["referendum"], entry.author))
        c.ballots[entry.author] = cts

    def decryption_shared(self, entry, p, ehash):
        """Section 15.4, in order."""
        ref = self.referendum(p["referendum"])
        if not entry.time_ms >= ref.closes_at_ms:
            raise Bad("share_too_early")
        c = ref.ceremony
        j = c.index(entry.author)
        if j is None:
            raise Bad("not_a_trustee")
        if c.failed:
            raise Bad("ceremony_failed")
        if not c.complete:
            raise Bad("ceremony_incomplete")
        if any(jj == j for jj, _ in c.shares):
            raise Bad("ceremony_step_repeated")
        if p["options"] != ref.options:
            raise Bad("invalid_decryption_share")
        tally = secret.sum_ciphertexts(c.ballots.values(), ref.options)
        ds = secret.verify_decryption_share(self.id, p["referendum"], j, c.key_shares[j], tally, p["share"])
        if ds is None:
            raise Bad("invalid_decryption_share")
        c.shares.append((j, ds))

    def check_secret_tally(self, p, ref):
        """Section 15.4, Declaration, after the checks of section 9: the
        ceremony has not failed; at least t shares; the first t shares in log
        order combined by Lagrange at 0; M_i == [tally_i]G for one count per
        option."""
        c = ref.ceremony
        if c.failed:
            raise Bad("ceremony_failed")
        if len(c.shares) < c.threshold:
            raise Bad("too_few_shares")
        tally = secret.sum_ciphertexts(c.ballots.values(), ref.options)
        m = secret.combine(c.shares[:c.threshold], tally)
        if len(p["tally"]) != ref.options or not all(
                secret.enc(mi) == secret.enc(secret.mul_base(count)) for mi, count in zip(m, p["tally"])):
            raise Bad("tally_mismatch")


RULES = {
    VOTERS_ENROLLED: Ledger.voters_enrolled,
    VOTER_REMOVED: Ledger.voter_removed,
    PETITION_FILED: Ledger.petition_filed,
    PETITION_SUPPORTED: Ledger.petition_supported,
    PAPER_SUPPORTS_RECORDED: Ledger.paper_supports_recorded,
    PETITION_WITHDRAWN: Ledger.petition_withdrawn,
    CONTENT_ADMITTED: Ledger.content_admitted,
    COUNCIL_RULED: Ledger.council_ruled,
    REFERENDUM_CALLED: Ledger.referendum_called,
    BALLOT_CAST: Ledger.ballot_cast,
    TRUSTEE_COMMITTED: Ledger.trustee_committed,
    TRUSTEE_DEALT: Ledger.trustee_dealt,
    TRUSTEE_SHARES_SENT: Ledger.trustee_shares_sent,
    TRUSTEE_COMPLAINED: Ledger.trustee_complained,
    DECRYPTION_SHARED: Ledger.decryption_shared,
    RESULT_DECLARED: Ledger.result_declared,
}


# --------------------------------------------------------------------------
# Section 7: the one spelling of an export line

LINE = re.compile(rb'\{"position":(0|[1-9][0-9]*),"hash":"([0-9a-f]{64})","entry":"([A-Za-z0-9+/]*={0,2})"\}')


def parse_line(line):
    """-> (position, stated hash, entry bytes), else malformed_line."""
    m = LINE.fullmatch(line)
    if m is None:
        raise Bad("malformed_line")
    # P is "the position", a u64: a longer number is no spelling of a line.
    # (Assumption: FORMAT.md does not say whether this is malformed_line or
    # position_mismatch; the length test also keeps int() within Python's
    # digit limit.)
    if len(m.group(1)) > 20 or int(m.group(1)) > U64_MAX:
        raise Bad("malformed_line")
    try:
        raw = base64.b64decode(m.group(3), validate=True)
    except binascii.Error:
        raise Bad("malformed_line")
    if base64.b64encode(raw) != m.group(3):
        raise Bad("malformed_line")  # padding or non-zero trailing bits
    return int(m.group(1)), bytes.fromhex(m.group(2).decode()), raw


# --------------------------------------------------------------------------
# Section 8: verification, in order

def verify(data):
    """Returns ("valid", size, head hex) or ("invalid", position, code)."""
    return replay(data).verdict


@dataclass
class Replay:
    verdict: tuple  # what verify() returns
    entries: list  # the bytes of every entry accepted, in position order
    genesis: Optional[dict]  # the decoded genesis payload, once entry 0 is accepted


def replay(data):
    """Section 8 over an export. Besides the verdict, keeps the accepted
    entries' bytes (the leaves of section 14's tree) and the decoded genesis
    payload (for its origin and log key)."""
    size, head, last_time, ledger = 0, bytes(32), 0, None
    entries = []
    at = 0

    def result(verdict):
        return Replay(verdict, entries, ledger.g if ledger is not None else None)

    while at < len(data):
        newline = data.find(b"\n", at)
        line = data[at:] if newline < 0 else data[at:newline]
        if len(line) > MAX_LINE:
            return result(("invalid", size, "malformed_line"))
        if newline < 0:
            return result(("invalid", size, "truncated_line"))
        at = newline + 1
        try:
            ledger, entry, ehash, raw = check_entry(line, size, head, last_time, ledger)
        except Bad as bad:
            return result(("invalid", size, bad.code))
        size, head, last_time = size + 1, ehash, entry.time_ms
        entries.append(raw)
    if size == 0:
        return result(("invalid", 0, "empty_log"))
    return result(("valid", size, head.hex()))


def check_entry(line, size, head, last_time, ledger):
    """Steps 1-9 for the line at the expected position `size`. Returns the
    (possibly new) ledger, the entry, its hash and its bytes; raises Bad."""
    position, stated_hash, raw = parse_line(line)                          # 1
    entry = decode_entry(raw)                                             # 2
    if ledger is not None and entry.version != ledger.format:
        raise Bad("malformed_entry")
    if position != size or entry.position != size:                       # 3
        raise Bad("position_mismatch")
    ehash = hashlib.sha256(raw).digest()
    if stated_hash != ehash:                                              # 4
        raise Bad("hash_mismatch")
    if entry.prev_hash != head:                                           # 5
        raise Bad("bad_genesis" if size == 0 else "broken_link")
    if entry.time_ms < last_time:                                         # 6
        raise Bad("time_went_backwards")
    if not signature_ok(entry.author, entry.payload, entry.signature):    # 7
        raise Bad("bad_signature")
    p = decode_payload(entry.payload)                                     # 8
    if p["version"] != entry.version:
        raise Bad("malformed_payload")
    if ledger is None:                                                    # 9
        ledger = Ledger(entry, p)
    else:
        ledger.apply(entry, p, ehash)
    return ledger, entry, ehash, raw


# --------------------------------------------------------------------------
# Command line

def _policy_args(parser):
    parser.add_argument("--witness", action="append", default=[], metavar="VKEY",
                        help="a witness verifier key name+id+base64(0x04||key); repeatable")
    parser.add_argument("--quorum", type=int, default=None, metavar="K",
                        help="cosignatures needed from the listed witnesses "
                             "(default: all the distinct ones; 0 without witnesses)")


def _policy(tlog, log_key, args):
    witnesses = [tlog.parse_verifier_key(w) for w in args.witness]
    # A witness listed twice counts once (section 14, exact rules).
    quorum = len(set(witnesses)) if args.quorum is None else args.quorum
    return tlog.Policy(log_key, witnesses, quorum)


def main(argv):
    """The command line (see the module's docstring). Returns the exit status."""
    import argparse

    import tlog  # imported here: tlog.py imports this module

    if argv[:1] == ["receipt"]:
        parser = argparse.ArgumentParser(prog="verify.py receipt",
                                         description="Verify a tlog-proof receipt offline (section 14).")
        parser.add_argument("receipt", metavar="FILE")
        parser.add_argument("--log-key", required=True, metavar="VKEY",
                            help="the log's verifier key, origin+id+base64(0x01||log_key)")
        _policy_args(parser)
        args = parser.parse_args(argv[1:])
        try:
            policy = _policy(tlog, tlog.parse_verifier_key(args.log_key), args)
        except tlog.TlogError as e:
            parser.error(str(e))
        with open(args.receipt, "rb") as f:
            data = f.read()
        try:
            r, cp, entry = tlog.verify_receipt(data, policy)
        except tlog.TlogError as e:
            print(f"receipt refused: {e}")
            return 1
        print(f"receipt ok: entry {r.index} of {cp.origin} at size {cp.size}, root {cp.root_b64}, "
              f"entry hash {hashlib.sha256(r.extra).hexdigest()}, author {entry.author.hex()}, "
              f"time_ms {entry.time_ms}")
        return 0

    parser = argparse.ArgumentParser(prog="verify.py", description="Verify a dauys export (JSON Lines).")
    parser.add_argument("export", metavar="EXPORT.jsonl")
    parser.add_argument("--checkpoint", metavar="NOTE",
                        help="a signed checkpoint to check against the replayed log (format 2)")
    _policy_args(parser)
    args = parser.parse_args(argv)
    if args.checkpoint is None and (args.witness or args.quorum is not None):
        parser.error("--witness and --quorum go with --checkpoint")
    with open(args.export, "rb") as f:
        result = replay(f.read())
    if result.verdict[0] != "valid":
        print(*result.verdict)  # a checkpoint is checked only against a log that verified
        return 1
    valid_line = " ".join(map(str, (*result.verdict, base64.b64encode(tlog.tree_root(result.entries)).decode())))
    if args.checkpoint is None:
        print(valid_line)
        return 0

    # Section 14: the log key is the genesis log_key, named by the genesis origin.
    g = result.genesis
    if g["version"] == 1:
        print("invalid checkpoint: checkpoint refused: a format 1 ledger has no origin and no checkpoints")
        return 1
    try:
        log_key = tlog.VerifierKey(g["origin"], tlog.ED25519, g["log_key"])
        policy = _policy(tlog, log_key, args)
    except tlog.TlogError as e:
        parser.error(str(e))
    with open(args.checkpoint, "rb") as f:
        note = f.read()
    try:
        cp = tlog.verify_checkpoint(note, policy)
        tlog.check_against_entries(cp, result.entries)
    except tlog.TlogError as e:
        # Section 14, exact rules: the verdict is invalid, without a position or code.
        print(f"invalid checkpoint: checkpoint refused: {e}")
        return 1
    print(valid_line)
    print(f"checkpoint ok: {cp.origin} size {cp.size} root {cp.root_b64} (log key {log_key})")
    return 0


if __name__ == "__main__":
    # tlog.py does "from verify import ...": let it find this module, not load a second copy.
    sys.modules.setdefault("verify", sys.modules[__name__])
    try:
        sys.exit(main(sys.argv[1:]))
    except OSError as e:  # a file that cannot be read
        print(f"verify.py: {e}", file=sys.stderr)
        sys.exit(2)
