"""ristretto255 (RFC 9496) in pure Python, for FORMAT.md section 15.

PyNaCl 1.6.2 does not expose libsodium's ristretto255 functions, so the group
is written out here from RFC 9496 (sections 4.3.1 decode, 4.3.2 encode, 4.2
SQRT_RATIO_M1) over edwards25519 in extended coordinates (Hisil-Wong-Carter-
Dawson 2008, the unified addition for a = -1, which is complete on this curve
and needs no special case for the identity or for doubling).

A point is a tuple (X, Y, Z, T) of field elements; IDENTITY is (0, 1, 1, 0)
and encodes as 32 zero bytes. decode() returns None for any non-canonical
encoding (RFC 9496: s >= p, s negative, not a square, t negative or y = 0).
Scalars are Python ints; mul() reduces them mod L and accepts 0 (the result is
the identity), so no caller has to avoid the identity or a zero scalar.

Checked by check_fixtures.py against RFC 9496's multiples of the generator and
its invalid encodings (Appendix A).
"""

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

IDENTITY = (0, 1, 1, 0)


def _neg_field(x):
    return (-x) % P


def _is_negative(x):
    return x % P & 1 == 1


def _abs(x):
    x %= P
    return P - x if x & 1 else x


def sqrt_ratio_m1(u, v):
    """RFC 9496 section 4.2: (was_square, r) with r non-negative."""
    u %= P
    v %= P
    v3 = v * v % P * v % P
    v7 = v3 * v3 % P * v % P
    r = u * v3 % P * pow(u * v7 % P, (P - 5) // 8, P) % P
    check = v * r % P * r % P
    correct = check == u
    flipped = check == (-u) % P
    flipped_i = check == (-u) * SQRT_M1 % P
    if flipped or flipped_i:
        r = r * SQRT_M1 % P
    return correct or flipped, _abs(r)


INVSQRT_A_MINUS_D = sqrt_ratio_m1(1, (-1 - D) % P)[1]


def decode(b):
    """RFC 9496 section 4.3.1 -> point, or None if b is not a canonical encoding."""
    if len(b) != 32:
        return None
    s = int.from_bytes(b, "little")
    if s >= P or s & 1:  # non-canonical field element (bit 255 included) or negative
        return None
    ss = s * s % P
    u1 = (1 - ss) % P
    u2 = (1 + ss) % P
    u2_sqr = u2 * u2 % P
    v = (-(D * u1 % P * u1) - u2_sqr) % P
    was_square, invsqrt = sqrt_ratio_m1(1, v * u2_sqr)
    den_x = invsqrt * u2 % P
    den_y = invsqrt * den_x % P * v % P
    x = _abs(2 * s * den_x)
    y = u1 * den_y % P
    t = x * y % P
    if not was_square or _is_negative(t) or y == 0:
        return None
    return (x, y, 1, t)


def encode(pt):
    """RFC 9496 section 4.3.2 -> 32 bytes."""
    x0, y0, z0, t0 = pt
    u1 = (z0 + y0) * (z0 - y0) % P
    u2 = x0 * y0 % P
    _, invsqrt = sqrt_ratio_m1(1, u1 * u2 % P * u2)
    den1 = invsqrt * u1 % P
    den2 = invsqrt * u2 % P
    z_inv = den1 * den2 % P * t0 % P
    if _is_negative(t0 * z_inv):
        x, y, den_inv = y0 * SQRT_M1 % P, x0 * SQRT_M1 % P, den1 * INVSQRT_A_MINUS_D % P
    else:
        x, y, den_inv = x0, y0, den2
    if _is_negative(x * z_inv):
        y = _neg_field(y)
    s = _abs(den_inv * (z0 - y))
    return s.to_bytes(32, "little")


def add(p, q):
    """add-2008-hwcd-3 (a = -1): complete on edwards25519."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * D * t1 % P * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def double(p):
    """dbl-2008-hwcd (a = -1)."""
    x1, y1, z1, _ = p
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    e = ((x1 + y1) * (x1 + y1) - a - b) % P
    g = (b - a) % P  # D + B with D = -A
    f = (g - c) % P
    h = (-a - b) % P  # D - B
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def neg(p):
    x, y, z, t = p
    return ((-x) % P, y, z, (-t) % P)


def sub(p, q):
    return add(p, neg(q))


def equal(p, q):
    """Ristretto equality (RFC 9496 section 4.3.3)."""
    x1, y1, _, _ = p
    x2, y2, _, _ = q
    return (x1 * y2 - y1 * x2) % P == 0 or (y1 * y2 - x1 * x2) % P == 0


def mul(k, p):
    """[k]p for any integer k (reduced mod L), 4-bit fixed window."""
    k %= L
    if k == 0:
        return IDENTITY
    table = [IDENTITY, p]
    for _ in range(14):
        table.append(add(table[-1], p))
    acc = IDENTITY
    for shift in range(252, -4, -4):
        acc = double(double(double(double(acc))))
        digit = (k >> shift) & 15
        if digit:
            acc = add(acc, table[digit])
    return acc


# The generator: the edwards25519 base point (y = 4/5, x even).
_BY = 4 * pow(5, P - 2, P) % P
_BX = sqrt_ratio_m1((_BY * _BY - 1) % P, (D * _BY * _BY + 1) % P)[1]
G = (_BX, _BY, 1, _BX * _BY % P)
G_BYTES = encode(G)

# [d * 16^i]G for i in 0..63, d in 0..15: a base multiplication is 63 additions.
_BASE_TABLE = []


def _build_base_table():
    base = G
    for _ in range(64):
        row = [IDENTITY, base]
        for _ in range(14):
            row.append(add(row[-1], base))
        _BASE_TABLE.append(row)
        base = double(double(double(double(base))))


_build_base_table()


def mul_base(k):
    """[k]G."""
    k %= L
    acc = IDENTITY
    for i in range(64):
        digit = (k >> (4 * i)) & 15
        if digit:
            acc = add(acc, _BASE_TABLE[i][digit])
    return acc


def scalar_from_bytes(b):
    """A canonical 32-byte little-endian scalar -> int, or None if >= L."""
    s = int.from_bytes(b, "little")
    return s if len(b) == 32 and s < L else None


def scalar_bytes(s):
    return (s % L).to_bytes(32, "little")


def from_bytes_mod_order_wide(b):
    """64 bytes as a little-endian integer, reduced mod L."""
    return int.from_bytes(b, "little") % L
