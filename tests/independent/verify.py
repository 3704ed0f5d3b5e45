#!/usr/bin/env python3
"""A second dauys verifier, written from docs/FORMAT.md alone, in Python.

It shares no code with the Rust verifier: hashlib for SHA-256 and libsodium
(PyNaCl) for Ed25519. `check_fixtures.py` runs it over every fixture and
compares the first bad position and reason with fixtures/expected.json, so a
gap or an ambiguity in FORMAT.md shows up as a disagreement.

Usage: verify.py EXPORT.jsonl   -> prints "valid N HEAD" or "invalid POS CODE"
"""
import base64
import binascii
import hashlib
import json
import re
import struct
import sys

import nacl.bindings
import nacl.exceptions
import nacl.signing

P = 2**255 - 19
# Encodings of the eight points of small order (canonical ones; any other
# encoding of them is non-canonical and refused before this list is read).
SMALL_ORDER = {
    bytes.fromhex(h)
    for h in [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ]
}


class Bad(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

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
        if n < lo or n > hi:
            raise Bad("range")
        return n

    def bytes_(self, lo, hi):
        return self.take(self.count(lo, hi))

    def str_(self, lo, hi):
        try:
            return self.bytes_(lo, hi).decode("utf-8")
        except UnicodeDecodeError:
            raise Bad("utf8")

    def end(self):
        if self.at != len(self.data):
            raise Bad("trailing")


def key_acceptable(key):
    """Canonical encoding (y < p) of a curve point that is not of small order."""
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    if y >= P or key in SMALL_ORDER:
        return False
    # libsodium checks that the point is on the curve (and canonical). It
    # also refuses points with a torsion component, which FORMAT.md accepts;
    # no fixture has such a key, and this stricter check is noted as a gap.
    return bool(nacl.bindings.crypto_core_ed25519_is_valid_point(key))


def signature_ok(author, payload, signature):
    if not key_acceptable(author):
        return False
    try:
        nacl.signing.VerifyKey(author).verify(payload, signature)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


def decode_entry(raw):
    r = Reader(raw)
    if len(raw) > 65792:
        raise Bad("malformed_entry")
    try:
        if r.take(8) != b"DAUYSENT" or r.u16() != 1:
            raise Bad("malformed_entry")
        entry = dict(position=r.u64(), prev=r.take(32), time=r.u64(), author=r.take(32))
        entry["payload"] = r.bytes_(0, 65536)
        entry["signature"] = r.take(64)
        r.end()
    except Bad:
        raise Bad("malformed_entry")
    return entry


def decode_payload(payload):
    if len(payload) < 51:
        raise Bad("malformed_payload")
    r = Reader(payload)
    try:
        if r.take(8) != b"DAUYSEVT" or r.u16() != 1:
            raise Bad("x")
        p = dict(ledger_id=r.take(32), kind=r.u8(), nonce=r.u64())
        k = p["kind"]
        if k == 1:
            p.update(jurisdiction=r.str_(1, 200), commission=r.take(32), log=r.take(32), council=r.take(32))
            p["rules"] = dict(
                signing=r.u64(), response=r.u64(), wmin=r.u64(), wmax=r.u64(), tmin=r.u64(),
                tshare=r.u16(), approval=r.u16(), yes_share=r.u16())
            subjects = []
            for _ in range(r.count(1, 64)):
                sid = r.str_(1, 64)
                excl = r.u8()
                if excl not in (0, 1):
                    raise Bad("x")
                terms = [r.str_(1, 100) for _ in range(r.count(0, 128))]
                subjects.append((sid, excl == 1, terms))
            p["rules"]["subjects"] = subjects
        elif k == 2:
            p.update(district=r.str_(0, 64))
            p["keys"] = [r.take(32) for _ in range(r.count(1, 1000))]
        elif k == 3:
            p.update(key=r.take(32), reasons=r.str_(1, 5000))
        elif k == 4:
            p.update(subject=r.str_(1, 64), title=r.str_(1, 200), text=r.str_(1, 10000))
        elif k == 5:
            p.update(petition=r.take(32))
        elif k == 6:
            p.update(petition=r.take(32), count=r.u64(), sheets=r.take(32))
            if not 1 <= p["count"] <= 10_000_000:
                raise Bad("x")
        elif k == 7:
            p.update(petition=r.take(32), reasons=r.str_(0, 5000))
        elif k == 8:
            p.update(content=r.take(32), reasons=r.str_(1, 5000))
        elif k == 9:
            p.update(petition=r.take(32), decision=r.u8())
            if p["decision"] not in (1, 2):
                raise Bad("x")
            p.update(reasons=r.str_(1, 5000))
        elif k == 10:
            p.update(petition=r.take(32), subject=r.str_(1, 64), question=r.str_(1, 1000))
            p["options"] = [r.str_(1, 200) for _ in range(r.count(2, 8))]
            p.update(opens=r.u64(), closes=r.u64())
        elif k == 11:
            p.update(referendum=r.take(32))
            if r.u8() != 1:
                raise Bad("x")
            p.update(choice=r.u8())
        elif k == 12:
            p.update(referendum=r.take(32))
            p["tally"] = [r.u64() for _ in range(r.count(2, 8))]
            p.update(outcome=r.u8())
            if p["outcome"] not in (1, 2):
                raise Bad("x")
        else:
            raise Bad("x")
        r.end()
    except Bad:
        raise Bad("malformed_payload")
    return p


def words(text):
    return [w.lower() for w in re.findall(r"[^\W_]+", text)]


class Ledger:
    def __init__(self, entry, p):
        if p["kind"] != 1:
            raise Bad("bad_genesis")
        rules = p["rules"]
        keys = [p["commission"], p["log"], p["council"]]
        ok = (entry["author"] == p["commission"] and all(key_acceptable(k) for k in keys) and len(set(keys)) == 3
              and rules["signing"] > 0 and rules["response"] > 0 and 0 < rules["wmin"] <= rules["wmax"]
              and max(rules["tshare"], rules["approval"], rules["yes_share"]) <= 10000
              and (rules["tmin"] > 0 or rules["tshare"] > 0))
        ids = [s[0] for s in rules["subjects"]]
        ok = ok and len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)
        ok = ok and all(s[1] or not s[2] for s in rules["subjects"])
        for required in ("budget", "staffing", "internal-organisation"):
            ok = ok and any(s[0] == required and s[1] for s in rules["subjects"])
        self.screen = []
        for sid, excluded, terms in rules["subjects"]:
            for term in terms:
                w = words(term)
                ok = ok and bool(w)
                self.screen.append((sid, term, w))
        if not ok:
            raise Bad("bad_genesis")
        self.id, self.rules, self.g = p["ledger_id"], rules, p
        self.voters = {}  # key -> [enrolled, district]
        self.enrolled = 0
        self.petitions = {}
        self.referendums = {}
        self.supports, self.ballots, self.admissions = set(), set(), set()
        self.payloads = {hashlib.sha256(entry["payload"]).digest()}

    def status(self, pet, t):
        if pet["referendum"]:
            return "in_referendum"
        if pet["ruling"]:
            return "accepted" if pet["ruling"] == 1 else "rejected"
        if pet["withdrawn"]:
            return "withdrawn"
        if pet["qualified"] is not None:
            return "ruling_overdue" if t >= pet["qualified"] + self.rules["response"] else "awaiting_ruling"
        return "lapsed" if t >= pet["deadline"] else "collecting"

    def subject(self, s):
        found = [x for x in self.rules["subjects"] if x[0] == s]
        if not found:
            raise Bad("unknown_subject")
        if found[0][1]:
            raise Bad("excluded_subject")

    def screened(self, texts, payload):
        for sid, term, w in self.screen:
            for text in texts:
                tw = words(text)
                if any(tw[i:i + len(w)] == w for i in range(len(tw) - len(w) + 1)):
                    content = hashlib.sha256(b"dauys/content/v1\x00" + payload[51:]).digest()
                    if content in self.admissions:
                        return content
                    raise Bad("screened_text")
        return None

    def enrolled_voter(self, key):
        v = self.voters.get(key)
        return v is not None and v[0]

    def apply(self, entry, p, ehash):
        now, author, payload = entry["time"], entry["author"], entry["payload"]
        if p["ledger_id"] != self.id:
            raise Bad("wrong_ledger")
        ph = hashlib.sha256(payload).digest()
        if ph in self.payloads:
            raise Bad("duplicate_payload")
        k = p["kind"]
        g = self.g
        commission_kinds = {2, 3, 6, 8, 10, 12}
        if k == 1:
            raise Bad("genesis_repeated")
        if k in commission_kinds and author != g["commission"]:
            raise Bad("wrong_role")
        if k == 9 and author != g["council"]:
            raise Bad("wrong_role")
        if k in (4, 5, 11) and not self.enrolled_voter(author):
            raise Bad("not_enrolled")
        if k == 2:
            batch = set()
            for key in p["keys"]:
                if not key_acceptable(key):
                    raise Bad("weak_voter_key")
                if key in (g["commission"], g["council"], g["log"]):
                    raise Bad("role_key_as_voter")
                if self.enrolled_voter(key) or key in batch:
                    raise Bad("already_enrolled")
                batch.add(key)
            for key in p["keys"]:
                self.voters[key] = [True, p["district"]]
            self.enrolled += len(p["keys"])
        elif k == 3:
            if not self.enrolled_voter(p["key"]):
                raise Bad("not_enrolled")
            self.voters[p["key"]][0] = False
            self.enrolled -= 1
        elif k == 4:
            self.subject(p["subject"])
            admission = self.screened([p["title"], p["text"]], payload)
            if admission:
                self.admissions.discard(admission)
            share = -(-self.enrolled * self.rules["tshare"] // 10000)
            self.petitions[ehash] = dict(initiator=author, threshold=max(self.rules["tmin"], share),
                                         deadline=now + self.rules["signing"], online=0, paper=0, qualified=None,
                                         withdrawn=False, ruling=0, referendum=None)
        elif k in (5, 6):
            pet = self.petitions.get(p["petition"])
            if pet is None:
                raise Bad("unknown_petition")
            if pet["withdrawn"] or pet["ruling"] or pet["referendum"]:
                raise Bad("petition_not_collecting")
            if now >= pet["deadline"]:
                raise Bad("outside_signing_period")
            if k == 5:
                if (p["petition"], author) in self.supports:
                    raise Bad("double_support")
                self.supports.add((p["petition"], author))
                pet["online"] += 1
            else:
                pet["paper"] += p["count"]
            if pet["qualified"] is None and pet["online"] + pet["paper"] >= pet["threshold"]:
                pet["qualified"] = now
        elif k == 7:
            pet = self.petitions.get(p["petition"])
            if pet is None:
                raise Bad("unknown_petition")
            if pet["initiator"] != author:
                raise Bad("not_initiator")
            if self.status(pet, now) not in ("collecting", "awaiting_ruling", "ruling_overdue"):
                raise Bad("petition_not_collecting")
            pet["withdrawn"] = True
        elif k == 8:
            if p["content"] in self.admissions:
                raise Bad("admission_exists")
            self.admissions.add(p["content"])
        elif k == 9:
            pet = self.petitions.get(p["petition"])
            if pet is None:
                raise Bad("unknown_petition")
            s = self.status(pet, now)
            if s in ("collecting", "lapsed"):
                raise Bad("ruling_before_threshold")
            if s == "ruling_overdue":
                raise Bad("ruling_after_deadline")
            if s != "awaiting_ruling":
                raise Bad("not_awaiting_ruling")
            pet["ruling"] = p["decision"]
        elif k == 10:
            pet = self.petitions.get(p["petition"])
            if pet is None:
                raise Bad("unknown_petition")
            if self.status(pet, now) not in ("rejected", "ruling_overdue"):
                raise Bad("referendum_not_allowed")
            self.subject(p["subject"])
            admission = self.screened([p["question"]] + p["options"], payload)
            window = p["closes"] - p["opens"]
            if p["opens"] < now or not self.rules["wmin"] <= window <= self.rules["wmax"]:
                raise Bad("bad_window")
            if admission:
                self.admissions.discard(admission)
            pet["referendum"] = ehash
            self.referendums[ehash] = dict(opens=p["opens"], closes=p["closes"], options=len(p["options"]),
                                           electorate=self.enrolled, tally=[0] * len(p["options"]), declared=False)
        elif k == 11:
            ref = self.referendums.get(p["referendum"])
            if ref is None:
                raise Bad("unknown_referendum")
            if not ref["opens"] <= now < ref["closes"]:
                raise Bad("ballot_outside_window")
            if p["choice"] >= ref["options"]:
                raise Bad("choice_out_of_range")
            if (p["referendum"], author) in self.ballots:
                raise Bad("double_ballot")
            self.ballots.add((p["referendum"], author))
            ref["tally"][p["choice"]] += 1
        elif k == 12:
            ref = self.referendums.get(p["referendum"])
            if ref is None:
                raise Bad("unknown_referendum")
            if now < ref["closes"]:
                raise Bad("declared_too_early")
            if ref["declared"]:
                raise Bad("already_declared")
            if p["tally"] != ref["tally"]:
                raise Bad("tally_mismatch")
            yes, valid = ref["tally"][0], sum(ref["tally"])
            approved = yes * 10000 > self.rules["approval"] * valid and \
                yes * 10000 >= self.rules["yes_share"] * ref["electorate"]
            if p["outcome"] != (1 if approved else 2):
                raise Bad("outcome_mismatch")
            ref["declared"] = True
        self.payloads.add(ph)


def verify(data):
    """Returns ("valid", size, head) or ("invalid", position, code)."""
    lines = data.split(b"\n")
    truncated = lines[-1] != b""
    complete = lines[:-1]
    head, last_time, ledger, size = bytes(32), 0, None, 0
    for line in complete:
        try:
            if len(line) > 131584:
                raise Bad("malformed_line")
            try:
                obj = json.loads(line.decode("utf-8"), object_pairs_hook=_no_duplicates)
                if not isinstance(obj, dict) or set(obj) != {"position", "hash", "entry"}:
                    raise ValueError
                pos, stated = obj["position"], obj["hash"]
                if type(pos) is not int or pos < 0 or not re.fullmatch(r"[0-9a-f]{64}", stated):
                    raise ValueError
                raw = base64.b64decode(obj["entry"], validate=True)
                if base64.b64encode(raw).decode() != obj["entry"]:
                    raise ValueError  # non-canonical base64
            except (ValueError, UnicodeDecodeError, binascii.Error):
                raise Bad("malformed_line")
            entry = decode_entry(raw)
            if pos != size or entry["position"] != size:
                raise Bad("position_mismatch")
            ehash = hashlib.sha256(raw).digest()
            if bytes.fromhex(stated) != ehash:
                raise Bad("hash_mismatch")
            if entry["prev"] != head:
                raise Bad("bad_genesis" if size == 0 else "broken_link")
            if entry["time"] < last_time:
                raise Bad("time_went_backwards")
            if not signature_ok(entry["author"], entry["payload"], entry["signature"]):
                raise Bad("bad_signature")
            p = decode_payload(entry["payload"])
            if ledger is None:
                ledger = Ledger(entry, p)
            else:
                ledger.apply(entry, p, ehash)
        except Bad as bad:
            return ("invalid", size, bad.code)
        size, head, last_time = size + 1, ehash, entry["time"]
    if truncated:
        return ("invalid", size, "truncated_line")
    if size == 0:
        return ("invalid", 0, "empty_log")
    return ("valid", size, head.hex())


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate member")
    return dict(pairs)


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        print(*verify(f.read()))
