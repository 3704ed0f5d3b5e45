"""Synthetic format 3 ledgers for check_fixtures.py: a small village signed
with keys made here, whose trustees, voters and commission act through the
prover side of FORMAT.md section 15 (proofs of possession, boxes, ballots
with ring and sum proofs, decryption shares with Chaum-Pedersen proofs).

The fixtures of fixtures/v3 reach only some of section 15's rules; these
ledgers reach the others (every ceremony code, the complaint paths, calling
again, re-voting, the declaration). They test the Python verifier against
its author's reading of FORMAT.md, not against the Rust verifier: a verdict
here is only as good as that reading, which check_fixtures.py states case by
case.

Everything is deterministic (random.Random(seed)); nothing here is used by
verify.py.
"""
import hashlib
import random
import struct

import nacl.bindings
import nacl.signing

import ristretto255 as r255
import secret
from merlin import Transcript

L = r255.L
T0 = 1_800_000_000_000  # the genesis time


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def s_(text):
    b = text.encode()
    return u32(len(b)) + b


def enc(pt):
    return r255.encode(pt)


def sc(k):
    return (k % L).to_bytes(32, "little")


class Trustee:
    def __init__(self, rng, t, key):
        self.key = key  # nacl SigningKey
        self.box_secret = bytes(rng.randrange(256) for _ in range(32))
        self.box_key = nacl.bindings.crypto_scalarmult_base(self.box_secret)  # libsodium's X25519, not secret.py's
        self.coeffs = [rng.randrange(1, L) for _ in range(t)]
        self.opening = bytes(rng.randrange(256) for _ in range(32))

    @property
    def public(self):
        return bytes(self.key.verify_key)

    def poly_bytes(self):
        return [enc(r255.mul_base(a)) for a in self.coeffs]

    def commitment(self):
        return hashlib.sha256(self.poly_bytes()[0] + self.opening).digest()

    def f(self, x):
        return sum(a * pow(x, k, L) for k, a in enumerate(self.coeffs)) % L


class Ref:
    """A referendum as the village knows it: id, times, trustees' secrets,
    the counted ciphertexts (to compute the tally it declares)."""

    def __init__(self, rid, opens, closes, trustees, t, options):
        self.id, self.opens, self.closes, self.trustees, self.t = rid, opens, closes, trustees, t
        self.options = options
        self.counted = {}  # voter -> [(R, B)]
        self.values = {}  # voter -> choice

    @property
    def n(self):
        return len(self.trustees)

    def key(self):
        return r255.mul_base(sum(tr.coeffs[0] for tr in self.trustees))

    def x(self, j):
        return sum(tr.f(j + 1) for tr in self.trustees) % L

    def tally(self):
        return secret.sum_ciphertexts(self.counted.values(), self.options)


class Village:
    """Builds a format 3 export act by act. Each act is signed by its author's
    key with that author's next nonce, `dt` ms after the previous entry
    (or at `at`)."""

    def __init__(self, seed=1, version=3):
        self.rng = random.Random(seed)
        self.version = version

        def key():
            return nacl.signing.SigningKey(bytes(self.rng.randrange(256) for _ in range(32)))

        self.commission, self.log, self.council = key(), key(), key()
        self.voters = [key() for _ in range(4)]
        self.spare_keys = [key() for _ in range(8)]  # trustees are drawn from these
        self.ledger_id = bytes(self.rng.randrange(256) for _ in range(32))
        self.lines, self.head, self.time, self.nonces = [], bytes(32), T0, {}
        self.last_hash = None

    # --- entries -------------------------------------------------------

    @property
    def position(self):
        return len(self.lines)

    def act(self, key, kind, body, dt=1000, at=None, nonce=None, version=None):
        version = self.version if version is None else version
        author = bytes(key.verify_key)
        if nonce is None:
            nonce = self.nonces.get(author, 0) + 1
        self.nonces[author] = max(nonce, self.nonces.get(author, 0))
        payload = b"DAUYSEVT" + struct.pack(">H", version) + self.ledger_id + bytes([kind]) + u64(nonce) + body
        signature = key.sign(payload).signature
        if self.lines:
            self.time = self.time + dt if at is None else at
        raw = (b"DAUYSENT" + struct.pack(">HQ", version, self.position) + self.head + u64(self.time) + author
               + u32(len(payload)) + payload + signature)
        h = hashlib.sha256(raw).digest()
        self.lines.append(b'{"position":%d,"hash":"%s","entry":"%s"}\n' % (
            self.position, h.hex().encode(), __import__("base64").b64encode(raw)))
        self.head = h
        return h

    def export(self):
        return b"".join(self.lines)

    # --- section 4 acts --------------------------------------------------

    def genesis(self):
        subjects = [("culture", 0), ("budget", 1), ("staffing", 1), ("internal-organisation", 1)]
        body = (s_("Village") + (s_("village.example/ledger") if self.version >= 2 else b"")
                + bytes(self.commission.verify_key) + bytes(self.log.verify_key) + bytes(self.council.verify_key)
                + u64(10**9) + u64(10**9) + u64(1000) + u64(10**12) + u64(1)
                + struct.pack(">HHH", 0, 5000, 0)
                + u32(len(subjects)) + b"".join(s_(sid) + bytes([ex]) + u32(0) for sid, ex in subjects))
        return self.act(self.commission, 1, body)

    def enrol(self, keys):
        return self.act(self.commission, 2, s_("d") + u32(len(keys)) + b"".join(bytes(k.verify_key) for k in keys))

    def petition(self):
        """A petition filed, supported (threshold 1) and rejected by the council."""
        pid = self.act(self.voters[0], 4, s_("culture") + s_("Library") + s_("Open it on Sundays."))
        self.act(self.voters[0], 5, pid)
        self.act(self.council, 9, pid + b"\x02" + s_("No staff."))
        return pid

    def call(self, pid, trustees=3, t=2, options=2, opens_in=100_000, window=1_000_000, trustee_keys=None,
             raw_trustees=None, raw_threshold=None, dt=1000):
        keys = trustee_keys if trustee_keys is not None else self.spare_keys[:trustees]
        trs = [Trustee(self.rng, t, k) for k in keys]
        opens = self.time + dt + opens_in
        closes = opens + window
        tlist = raw_trustees if raw_trustees is not None else [tr.public for tr in trs]
        body = (pid + s_("culture") + s_("Open the library on Sundays?")
                + u32(options) + b"".join(s_(f"Option {i}") for i in range(options))
                + u64(opens) + u64(closes))
        if self.version == 3:
            body += u32(len(tlist)) + b"".join(tlist) + bytes([t if raw_threshold is None else raw_threshold])
        rid = self.act(self.commission, 10, body, dt=dt)
        return Ref(rid, opens, closes, trs, t, options)

    # --- section 15.2: the ceremony --------------------------------------

    def commit(self, ref, i, commitment=None, box_key=None, **kw):
        """Trustee i's commitment; `box_key` replaces the box key it publishes
        (its box secret stays: a complaint then proves nothing)."""
        tr = ref.trustees[i]
        return self.act(tr.key, 13, ref.id + (tr.commitment() if commitment is None else commitment)
                        + (tr.box_key if box_key is None else box_key), **kw)

    def deal(self, ref, i, poly=None, opening=None, proof=None, n=None, **kw):
        tr = ref.trustees[i]
        poly = tr.poly_bytes() if poly is None else poly
        proof = pop_proof(self.rng, ref.n if n is None else n, ref.t, tr.coeffs) if proof is None else proof
        opening = tr.opening if opening is None else opening
        return self.act(tr.key, 14, ref.id + u32(len(poly)) + b"".join(poly) + b"".join(proof) + opening, **kw)

    def boxes(self, ref, i, value=None, bad_box=None, nonce_of=None):
        """Trustee i's boxes to every other trustee, in index order skipping i."""
        tr = ref.trustees[i]
        out = []
        for j in range(ref.n):
            if j == i:
                continue
            nonce = secret.ceremony_nonce(ref.id, i, j) if nonce_of is None else nonce_of(j)
            # `value` gives the plaintext's integer as written (not reduced mod L).
            plain = sc(tr.f(j + 1)) if value is None or j not in value else value[j].to_bytes(32, "little")
            sealed = nacl.bindings.crypto_box(plain, nonce, ref.trustees[j].box_key, tr.box_secret)
            if bad_box is not None and j == bad_box:
                sealed = bytes([sealed[0] ^ 1]) + sealed[1:]  # a bit of the tag
            out.append((nonce, sealed))
        return out

    def send(self, ref, i, boxes=None, **kw):
        boxes = self.boxes(ref, i) if boxes is None else boxes
        return self.act(ref.trustees[i].key, 15, ref.id + u32(len(boxes)) + b"".join(n + s for n, s in boxes), **kw)

    def complain(self, ref, i, accused, box_secret=None, **kw):
        tr = ref.trustees[i]
        return self.act(tr.key, 16, ref.id + bytes([accused]) + (tr.box_secret if box_secret is None else box_secret),
                        **kw)

    def ceremony(self, ref, skip=()):
        for step in ("commit", "deal", "send"):
            for i in range(ref.n):
                if (step, i) not in skip:
                    getattr(self, step)(ref, i)

    # --- section 15.3 and 15.4 -------------------------------------------

    def ballot(self, ref, v, choice, key=None, options=None, tamper=None, **kw):
        """Voter v's secret ballot for `choice`; counted in ref when accepted
        (the caller says so by not expecting a refusal)."""
        voter = self.voters[v]
        options = ref.options if options is None else options
        k = ref.key() if key is None else key
        data, cts = make_ballot(self.rng, self.ledger_id, ref.id, bytes(voter.verify_key), k, options, choice)
        if tamper is not None:
            data = tamper(data)
        h = self.act(voter, 11, ref.id + b"\x02" + u32(options) + data, **kw)
        ref.counted[bytes(voter.verify_key)] = cts
        ref.values[bytes(voter.verify_key)] = choice
        return h

    def share(self, ref, j, key=None, trustee_index=None, options=None, tamper=None, **kw):
        tally = ref.tally()
        if options is not None:
            tally = (tally + tally)[:options]
        data = make_share(self.rng, self.ledger_id, ref.id, j if trustee_index is None else trustee_index,
                          ref.x(j), tally)
        if tamper is not None:
            data = tamper(data)
        return self.act(ref.trustees[j].key if key is None else key, 17, ref.id + u32(len(tally)) + data, **kw)

    def declare(self, ref, tally=None, outcome=None, **kw):
        if tally is None:
            tally = [sum(1 for c in ref.values.values() if c == i) for i in range(ref.options)]
        if outcome is None:
            outcome = 1 if tally[0] * 10_000 > 5000 * sum(tally) else 2
        return self.act(self.commission, 12, ref.id + u32(len(tally)) + b"".join(u64(c) for c in tally)
                        + bytes([outcome]), **kw)


# --------------------------------------------------------------------------
# The prover side of section 15 (what trustees and voters compute)

def pop_proof(rng, n, t, coeffs):
    """The proof of possession of section 15.2: [c, s_0 .. s_{t-1}] as bytes."""
    tr = Transcript(b"elgamal_share_poly")
    tr.append_u64(b"n", n)
    tr.append_u64(b"t", t)
    secret.dom(tr, b"multi_pop")
    for a in coeffs:
        tr.append_message(b"K", enc(r255.mul_base(a)))
    ks = [rng.randrange(1, L) for _ in coeffs]
    for k in ks:
        tr.append_message(b"R", enc(r255.mul_base(k)))
    c = secret.challenge(tr, b"c")
    return [sc(c)] + [sc(k + c * a) for k, a in zip(ks, coeffs)]


def make_ballot(rng, ledger_id, rid, voter, key, options, choice):
    """A secret ballot (section 15.3) for `choice` -> (bytes after `options`,
    its ciphertexts as points)."""
    kb = enc(key)
    rs = [rng.randrange(1, L) for _ in range(options)]
    cts = []
    for i, r in enumerate(rs):
        v = 1 if i == choice else 0
        cts.append((r255.mul_base(r), r255.add(r255.mul_base(v), r255.mul(r, key))))
    t0 = secret.ballot_context(ledger_id, rid, voter, kb, options, [enc(a) + enc(b) for a, b in cts])
    out = b""
    for i, (r, (big_r, big_b)) in enumerate(zip(rs, cts)):
        v = 1 if i == choice else 0
        t = t0.clone()
        t.append_u64(b"option", i)
        secret.dom(t, b"encryption_range_proof")
        t.append_message(b"range", b"0..2")
        secret.dom(t, b"multi_ring_enc")
        t.append_message(b"K", kb)
        u = t.clone()
        secret.dom(u, b"ring_enc")
        u.append_message(b"enc", enc(big_r) + enc(big_b))
        u.append_u64(b"i", 0)
        k = rng.randrange(1, L)
        xs = (r255.IDENTITY, r255.G)

        def commit(s, e, j):
            return (r255.sub(r255.mul_base(s), r255.mul(e, big_r)),
                    r255.sub(r255.mul(s, key), r255.mul(e, r255.sub(big_b, xs[j]))))

        def e1_of(a0, b0):
            w = u.clone()
            w.append_u64(b"j", 0)
            w.append_message(b"R_G", enc(a0))
            w.append_message(b"R_K", enc(b0))
            return secret.challenge(w, b"c")

        def c_of(a1, b1):
            w = t.clone()
            w.append_message(b"R_G", enc(a1))
            w.append_message(b"R_K", enc(b1))
            return secret.challenge(w, b"c")

        if v == 1:  # the real index is 1: start the ring after it
            c = c_of(r255.mul_base(k), r255.mul(k, key))
            s0 = rng.randrange(1, L)
            e1 = e1_of(*commit(s0, c, 0))
            s1 = (k + e1 * r) % L
        else:
            e1 = e1_of(r255.mul_base(k), r255.mul(k, key))
            s1 = rng.randrange(1, L)
            c = c_of(*commit(s1, e1, 1))
            s0 = (k + c * r) % L
        out += enc(big_r) + enc(big_b) + sc(c) + sc(s0) + sc(s1)
    # The sum proof: log_G R = log_K (B - G) with r = sum r_i.
    r_sum = sum(rs) % L
    big_r = r255.mul_base(r_sum)
    big_b = r255.IDENTITY
    for _, b in cts:
        big_b = r255.add(big_b, b)
    k = rng.randrange(1, L)
    t = t0.clone()
    t.append_message(b"sum", b"exactly-one")
    secret.dom(t, b"log_eq")
    t.append_message(b"K", kb)
    t.append_message(b"[r]G", enc(big_r))
    t.append_message(b"[r]K", enc(r255.sub(big_b, r255.G)))
    t.append_message(b"[x]G", enc(r255.mul_base(k)))
    t.append_message(b"[x]K", enc(r255.mul(k, key)))
    c = secret.challenge(t, b"c")
    out += sc(c) + sc(k + c * r_sum)
    return out, cts


def make_share(rng, ledger_id, rid, j, x_j, tally):
    """Trustee j's decryption share (section 15.4) of the tally -> bytes after `options`."""
    out = b""
    x_pub = enc(r255.mul_base(x_j))
    for i, (a, b) in enumerate(tally):
        d = r255.mul(x_j, a)
        k = rng.randrange(1, L)
        t = Transcript(b"dauys/decryption-share/v1")
        t.append_message(b"ledger", ledger_id)
        t.append_message(b"referendum", rid)
        t.append_u64(b"trustee", j)
        t.append_u64(b"option", i)
        t.append_message(b"tally", enc(a) + enc(b))
        secret.dom(t, b"decryption_with_custom_key")
        secret.dom(t, b"log_eq")
        t.append_message(b"K", enc(a))
        t.append_message(b"[r]G", x_pub)
        t.append_message(b"[r]K", enc(d))
        t.append_message(b"[x]G", enc(r255.mul_base(k)))
        t.append_message(b"[x]K", enc(r255.mul(k, a)))
        c = secret.challenge(t, b"c")
        out += enc(d) + sc(c) + sc(k + c * x_j)
    return out
