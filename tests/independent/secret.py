"""Format 3's secret referendums (docs/FORMAT.md section 15): the proofs and
the ceremony's arithmetic, in Python, for verify.py.

Written from FORMAT.md alone, with ristretto255.py (RFC 9496, pure Python),
merlin.py (Merlin 1.0 / STROBE-128 / Keccak-f[1600], pure Python), X25519
and HSalsa20 in Python below, and PyNaCl for XSalsa20-Poly1305 (the box's
secretbox). Scalars are Python ints mod L; an element is kept
both as its 32 bytes as written (what transcripts and hashes take) and as a
decoded point (what the arithmetic takes).

Every function that checks a proof returns False (or None) for a
non-canonical element or scalar as well as for a proof that does not
verify: FORMAT.md gives both the same code.
"""
import hashlib

import nacl.bindings
import nacl.exceptions

import ristretto255 as r255
from merlin import Transcript

L = r255.L
IDENTITY_BYTES = bytes(32)


# --------------------------------------------------------------------------
# 15.1 Primitives

def element(b):
    """32 bytes -> point, or None unless they are a canonical encoding."""
    return r255.decode(b)


def scalar(b):
    """32 bytes little-endian -> int, or None if >= L (non-canonical)."""
    return r255.scalar_from_bytes(b)


def challenge(t, label):
    """T.challenge(label): from_bytes_mod_order_wide of 64 challenge bytes."""
    return r255.from_bytes_mod_order_wide(t.challenge_bytes(label, 64))


def dom(t, label):
    """T.dom(label) = T.msg("dom-sep", label)."""
    t.append_message(b"dom-sep", label)


class FixedBase:
    """[k]P for one P used many times (G, the election key K, a key share):
    a table of [d * 16^i]P, so each multiplication is at most 63 additions."""

    def __init__(self, point):
        self.rows = []
        base = point
        for _ in range(64):
            row = [r255.IDENTITY, base]
            for _ in range(14):
                row.append(r255.add(row[-1], base))
            self.rows.append(row)
            base = r255.double(r255.double(r255.double(r255.double(base))))

    def mul(self, k):
        k %= L
        acc = r255.IDENTITY
        for i in range(64):
            digit = (k >> (4 * i)) & 15
            if digit:
                acc = r255.add(acc, self.rows[i][digit])
        return acc


def mul_base(k):
    return r255.mul_base(k)


def enc(pt):
    return r255.encode(pt)


# --------------------------------------------------------------------------
# 15.2 The key ceremony

def ceremony_nonce(referendum, i, j):
    """The nonce of the box from trustee i to trustee j: the first 24 bytes of
    SHA-256("dauys/ceremony-nonce/v1" || 0x00 || referendum || u8 i || u8 j)."""
    return hashlib.sha256(b"dauys/ceremony-nonce/v1\x00" + referendum + bytes([i, j])).digest()[:24]


def commitment_of(c0_bytes, opening):
    """SHA-256(C_0 || opening), over the 32 bytes of C_0 as written."""
    return hashlib.sha256(c0_bytes + opening).digest()


def verify_pop(n, t, coeff_bytes, proof_bytes):
    """Dealt polynomial, check 3: every coefficient a canonical element, every
    proof scalar canonical, and the proof of possession verifies. Returns the
    decoded coefficients, or None.

        T = Merlin("elgamal_share_poly"); T.u64("n", n); T.u64("t", t);
        T.dom("multi_pop"); T.msg("K", C_k) for each k in order; then for
        each k: R_k = [s_k]G - [c]C_k, T.msg("R", R_k);
        valid iff T.challenge("c") == c
    """
    coeffs = [element(b) for b in coeff_bytes]
    scalars = [scalar(b) for b in proof_bytes]
    if any(c is None for c in coeffs) or any(s is None for s in scalars):
        return None
    if len(scalars) != len(coeffs) + 1:
        return None
    c, responses = scalars[0], scalars[1:]
    t_ = Transcript(b"elgamal_share_poly")
    t_.append_u64(b"n", n)
    t_.append_u64(b"t", t)
    dom(t_, b"multi_pop")
    for b in coeff_bytes:
        t_.append_message(b"K", b)
    for ck, sk in zip(coeffs, responses):
        rk = r255.sub(mul_base(sk), r255.mul(c, ck))
        t_.append_message(b"R", enc(rk))
    return coeffs if challenge(t_, b"c") == c else None


def poly_eval(coeffs, x):
    """P(x) = sum_k [x^k] C_k."""
    acc = r255.IDENTITY
    for k, ck in enumerate(coeffs):
        acc = r255.add(acc, r255.mul(pow(x, k, L), ck))
    return acc


# X25519 (RFC 7748, section 5), in Python: the box keys, the small-order
# test of a trustee_committed and the shared secret of a box.
P25519 = 2**255 - 19
A24 = 121665


def x25519(k, u):
    """X25519(k, u) of RFC 7748: k clamped, u's top bit masked and u taken
    modulo p; the Montgomery ladder; the result as 32 bytes little-endian."""
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(k, "little")
    x1 = (int.from_bytes(u, "little") & ((1 << 255) - 1)) % P25519
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P25519, (x2 - z2) % P25519
        aa, bb = a * a % P25519, b * b % P25519
        e = (aa - bb) % P25519
        c, d = (x3 + z3) % P25519, (x3 - z3) % P25519
        da, cb = d * a % P25519, c * b % P25519
        x3 = (da + cb) ** 2 % P25519
        z3 = x1 * (da - cb) ** 2 % P25519
        x2 = aa * bb % P25519
        z2 = e * (aa + A24 * e) % P25519
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P25519 - 2, P25519) % P25519).to_bytes(32, "little")


X25519_BASE = (9).to_bytes(32, "little")
SMALL_ORDER_PROBE = bytes([1]) * 32


def box_key_of(box_secret):
    """X25519(box_secret, 9): the box key of a box secret."""
    return x25519(box_secret, X25519_BASE)


def box_key_small_order(box_key):
    """Section 15.2, trustee_committed: a box key is of small order when
    X25519(k, box_key) is 32 zero bytes for k = 32 bytes 0x01."""
    return x25519(SMALL_ORDER_PROBE, box_key) == bytes(32)


def _hsalsa20(key, inp):
    """HSalsa20 (the first step of XSalsa20 and of crypto_box's beforenm):
    the Salsa20 core's 20 rounds without the final addition, words 0, 5, 10,
    15, 6, 7, 8, 9 of the state."""
    def rotl(v, c):
        return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))

    def words(b):
        return [int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b), 4)]

    c = words(b"expand 32-byte k")
    k, n = words(key), words(inp)
    x = [c[0], k[0], k[1], k[2], k[3], c[1], n[0], n[1], n[2], n[3], c[2], k[4], k[5], k[6], k[7], c[3]]

    def qr(a, b, cc, d):
        x[b] ^= rotl((x[a] + x[d]) & 0xFFFFFFFF, 7)
        x[cc] ^= rotl((x[b] + x[a]) & 0xFFFFFFFF, 9)
        x[d] ^= rotl((x[cc] + x[b]) & 0xFFFFFFFF, 13)
        x[a] ^= rotl((x[d] + x[cc]) & 0xFFFFFFFF, 18)

    for _ in range(10):
        qr(0, 4, 8, 12), qr(5, 9, 13, 1), qr(10, 14, 2, 6), qr(15, 3, 7, 11)  # columns
        qr(0, 1, 2, 3), qr(5, 6, 7, 4), qr(10, 11, 8, 9), qr(15, 12, 13, 14)  # rows
    return b"".join(x[i].to_bytes(4, "little") for i in (0, 5, 10, 15, 6, 7, 8, 9))


def box_shared_secret(sender_box_key, recipient_box_secret):
    """X25519(recipient's box secret, sender's box key)."""
    return x25519(recipient_box_secret, sender_box_key)


def open_box(sealed, nonce, sender_box_key, recipient_box_secret):
    """Section 15.1, Boxes: NaCl crypto_box (curve25519xsalsa20poly1305) in
    crypto_box_easy's layout, the 16-byte Poly1305 tag first, then the 32
    encrypted bytes -> the 32-byte plaintext, or None if the box does not
    open.

    The X25519 shared secret is computed here (RFC 7748, the secret
    clamped); a box whose shared secret is 32 zero bytes does not open
    (FORMAT.md 15.1, libsodium's rule applied whatever the library). The
    box's key is HSalsa20(shared secret, 16 zero bytes), computed here too;
    PyNaCl's crypto_secretbox_open_easy (XSalsa20-Poly1305, tag first) then
    opens the 48 bytes with it, which is crypto_box_open_easy_afternm."""
    if len(sealed) != 48 or len(nonce) != 24:
        return None
    shared = box_shared_secret(sender_box_key, recipient_box_secret)
    if shared == bytes(32):
        return None
    key = _hsalsa20(shared, bytes(16))
    try:
        return nacl.bindings.crypto_secretbox_open_easy(sealed, nonce, key)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return None


def share_matches(plaintext, coeffs, x):
    """True if the plaintext is a canonical scalar s with [s]G == P(x)."""
    if plaintext is None or len(plaintext) != 32:
        return False
    s = scalar(plaintext)
    return s is not None and r255.equal(mul_base(s), poly_eval(coeffs, x))


def joint_keys(polys):
    """The complete ceremony: X_j = sum_i P_i(j + 1) for every trustee j and
    K = sum_i C_{i,0}. polys: trustee index -> decoded coefficients."""
    n = len(polys)
    shares = []
    for j in range(n):
        acc = r255.IDENTITY
        for i in range(n):
            acc = r255.add(acc, poly_eval(polys[i], j + 1))
        shares.append(acc)
    key = r255.IDENTITY
    for i in range(n):
        key = r255.add(key, polys[i][0])
    return shares, key


# --------------------------------------------------------------------------
# 15.3 Secret ballots

OPTION_BYTES = 160
SUM_PROOF_BYTES = 64


def split_ballot(options, data):
    """The ballot bytes after `options` -> ([(R, B, c, s0, s1) as bytes], (c, s))."""
    per = [data[OPTION_BYTES * i:OPTION_BYTES * (i + 1)] for i in range(options)]
    per = [tuple(o[32 * k:32 * (k + 1)] for k in range(5)) for o in per]
    tail = data[OPTION_BYTES * options:]
    return per, (tail[:32], tail[32:64])


def ballot_context(ledger_id, referendum, voter, key_bytes, options, ciphertexts):
    """T0 of section 15.3; ciphertexts are R_i || B_i, 64 bytes each."""
    t0 = Transcript(b"dauys/secret-ballot/v1")
    t0.append_message(b"ledger", ledger_id)
    t0.append_message(b"referendum", referendum)
    t0.append_message(b"voter", voter)
    t0.append_message(b"key", key_bytes)
    t0.append_u64(b"options", options)
    for ct in ciphertexts:
        t0.append_message(b"ciphertext", ct)
    return t0


class ElectionKey:
    """K as bytes, point and a fixed-base table (used by every ballot)."""

    def __init__(self, point):
        self.point = point
        self.bytes = enc(point)
        self._table = None

    def mul(self, k):
        if self._table is None:
            self._table = FixedBase(self.point)
        return self._table.mul(k)


def verify_ballot(ledger_id, referendum, voter, key, options, data):
    """Every proof of a secret ballot, options in order, then the sum.
    `data` is the ballot bytes after `options` (options x 160 + 64 bytes).
    Returns the ciphertexts [(R_i, B_i) as points], or None if any element or
    scalar is non-canonical or any proof fails."""
    per, (sum_c, sum_s) = split_ballot(options, data)
    cts = []
    for (rb, bb, cb, s0b, s1b) in per:
        ri, bi = element(rb), element(bb)
        ci, s0, s1 = scalar(cb), scalar(s0b), scalar(s1b)
        if None in (ri, bi, ci, s0, s1):
            return None
        cts.append((ri, bi, ci, s0, s1))
    c, s = scalar(sum_c), scalar(sum_s)
    if c is None or s is None:
        return None
    t0 = ballot_context(ledger_id, referendum, voter, key.bytes, options,
                        [rb + bb for (rb, bb, _, _, _) in per])
    # Option i encrypts 0 or 1: a ring proof over x_0 = 0, x_1 = G.
    for i, (ri, bi, ci, s0, s1) in enumerate(cts):
        rb, bb = per[i][0], per[i][1]
        t = t0.clone()
        t.append_u64(b"option", i)
        dom(t, b"encryption_range_proof")
        t.append_message(b"range", b"0..2")
        dom(t, b"multi_ring_enc")
        t.append_message(b"K", key.bytes)
        u = t.clone()
        dom(u, b"ring_enc")
        u.append_message(b"enc", rb + bb)
        u.append_u64(b"i", 0)
        e = ci
        for j, (sij, xj) in enumerate(((s0, r255.IDENTITY), (s1, r255.G))):
            a_j = r255.sub(mul_base(sij), r255.mul(e, ri))
            b_j = r255.sub(key.mul(sij), r255.mul(e, r255.sub(bi, xj)))
            if j == 0:
                v = u.clone()
                v.append_u64(b"j", 0)
                v.append_message(b"R_G", enc(a_j))
                v.append_message(b"R_K", enc(b_j))
                e = challenge(v, b"c")
        t.append_message(b"R_G", enc(a_j))
        t.append_message(b"R_K", enc(b_j))
        if challenge(t, b"c") != ci:
            return None
    # Exactly one option is 1: log_G R = log_K (B - G) for the sum.
    big_r, big_b = r255.IDENTITY, r255.IDENTITY
    for (ri, bi, _, _, _) in cts:
        big_r, big_b = r255.add(big_r, ri), r255.add(big_b, bi)
    b_minus_g = r255.sub(big_b, r255.G)
    t = t0.clone()
    t.append_message(b"sum", b"exactly-one")
    x_g = r255.sub(mul_base(s), r255.mul(c, big_r))
    x_k = r255.sub(key.mul(s), r255.mul(c, b_minus_g))
    dom(t, b"log_eq")
    t.append_message(b"K", key.bytes)
    t.append_message(b"[r]G", enc(big_r))
    t.append_message(b"[r]K", enc(b_minus_g))
    t.append_message(b"[x]G", enc(x_g))
    t.append_message(b"[x]K", enc(x_k))
    if challenge(t, b"c") != c:
        return None
    return [(ri, bi) for (ri, bi, _, _, _) in cts]


def sum_ciphertexts(ballots, options):
    """Component-wise sum of ciphertexts lists; the empty sum is (0, 0)."""
    total = [(r255.IDENTITY, r255.IDENTITY) for _ in range(options)]
    for cts in ballots:
        total = [(r255.add(a, r), r255.add(b, bb)) for (a, b), (r, bb) in zip(total, cts)]
    return total


# --------------------------------------------------------------------------
# 15.4 Decryption and declaration

SHARE_BYTES = 96


def verify_decryption_share(ledger_id, referendum, j, key_share, tally, data):
    """Trustee j's decryption_shared: `data` is options x (D, c, s) bytes;
    key_share is X_j (point); tally the encrypted tally [(A_i, B_i)].
    Returns [D_i] (points), or None if any element or scalar is
    non-canonical or any option's proof fails."""
    options = len(tally)
    ds = []
    x_j_bytes = enc(key_share)
    for i in range(options):
        db, cb, sb = (data[SHARE_BYTES * i + 32 * k:SHARE_BYTES * i + 32 * (k + 1)] for k in range(3))
        d, c, s = element(db), scalar(cb), scalar(sb)
        if d is None or c is None or s is None:
            return None
        a_i, b_i = tally[i]
        a_bytes = enc(a_i)
        t = Transcript(b"dauys/decryption-share/v1")
        t.append_message(b"ledger", ledger_id)
        t.append_message(b"referendum", referendum)
        t.append_u64(b"trustee", j)
        t.append_u64(b"option", i)
        t.append_message(b"tally", a_bytes + enc(b_i))
        dom(t, b"decryption_with_custom_key")
        x_g = r255.sub(mul_base(s), r255.mul(c, key_share))
        x_k = r255.sub(r255.mul(s, a_i), r255.mul(c, d))
        dom(t, b"log_eq")
        t.append_message(b"K", a_bytes)
        t.append_message(b"[r]G", x_j_bytes)
        t.append_message(b"[r]K", db)
        t.append_message(b"[x]G", enc(x_g))
        t.append_message(b"[x]K", enc(x_k))
        if challenge(t, b"c") != c:
            return None
        ds.append(d)
    return ds


def lagrange_at_zero(indexes):
    """lambda_j = prod_{m != j} (j_m + 1) / ((j_m + 1) - (j + 1)) mod L, for
    each trustee index j of `indexes` (distinct)."""
    xs = [j + 1 for j in indexes]
    out = []
    for xj in xs:
        num, den = 1, 1
        for xm in xs:
            if xm != xj:
                num = num * xm % L
                den = den * (xm - xj) % L
        out.append(num * pow(den, -1, L) % L)
    return out


def combine(shares, tally):
    """M_i = B_i - sum_j [lambda_j] D_{j,i} over the given shares
    [(trustee index, [D_i])]."""
    lambdas = lagrange_at_zero([j for j, _ in shares])
    out = []
    for i, (_, b_i) in enumerate(tally):
        d = r255.IDENTITY
        for lam, (_, ds) in zip(lambdas, shares):
            d = r255.add(d, r255.mul(lam, ds[i]))
        out.append(r255.sub(b_i, d))
    return out
