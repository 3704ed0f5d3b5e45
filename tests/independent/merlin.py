"""Merlin 1.0 transcripts (merlin.cool), for FORMAT.md section 15, in Python.

Merlin is STROBE-128 over Keccak-f[1600]. Python's hashlib has SHA-3 but not
the raw permutation, so both are written out here, from their public
definitions: Keccak-f[1600] (FIPS 202, section 3); the subset of STROBE v1.0.2
(strobe.sourceforge.io) that Merlin uses (meta-AD, AD and PRF at the 128-bit
security level, so a rate of 166 bytes), with the initial block
[1, 168, 1, 0, 1, 96] || "STROBEv1.0.2" (no hyphen: "STROBE-v1.0.2" gives
other challenges); and Merlin's framing (each label and the u32
little-endian length of the message are meta-AD, the message AD, a challenge
PRF).

    t = Transcript(b"label")
    t.append_message(b"label", data)
    t.append_u64(b"label", x)          # x as 8 bytes little-endian
    t.challenge_bytes(b"label", n)     # n bytes
    t.clone()

Checked by check_fixtures.py against Merlin's published test vector and
vectors.json["secret_format_3"]["merlin"].
"""

# --------------------------------------------------------------------------
# Keccak-f[1600] (FIPS 202): 25 lanes of 64 bits, lane (x, y) at index x + 5y,
# each lane little-endian in the 200-byte state.

_MASK = (1 << 64) - 1


def _round_constants():
    """RC[i] for the 24 rounds, from the LFSR rc(t) of FIPS 202, 3.2.5."""
    out = []
    r = 1
    for _ in range(24):
        rc = 0
        for j in range(7):
            # rc(t): bit 0 of the LFSR x^8 + x^6 + x^5 + x^4 + 1
            if r & 1:
                rc |= 1 << ((1 << j) - 1)
            r = ((r << 1) ^ 0x71) & 0xFF if r & 0x80 else (r << 1)
        out.append(rc)
    return out


def _rotation_offsets():
    """r[x + 5y] from FIPS 202, 3.2.2 (rho)."""
    rot = [0] * 25
    x, y = 1, 0
    for t in range(24):
        rot[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return rot


_RC = _round_constants()
_ROT = _rotation_offsets()


def _rol(v, n):
    return ((v << n) | (v >> (64 - n))) & _MASK if n else v


def keccak_f1600(state):
    """Permutes a bytearray of 200 bytes in place."""
    a = [int.from_bytes(state[8 * i:8 * i + 8], "little") for i in range(25)]
    for rc in _RC:
        # theta
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        # rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rol(a[x + 5 * y], _ROT[x + 5 * y])
        # chi
        a = [b[i] ^ ((~b[(i % 5 + 1) % 5 + 5 * (i // 5)]) & b[(i % 5 + 2) % 5 + 5 * (i // 5)])
             for i in range(25)]
        # iota
        a[0] ^= rc
    state[:] = b"".join(v.to_bytes(8, "little") for v in a)


# --------------------------------------------------------------------------
# STROBE-128, the operations Merlin uses.

_R = 166  # rate in bytes for 128-bit security: 200 - 2*128/8 - 2
_FLAG_I, _FLAG_A, _FLAG_C, _FLAG_T, _FLAG_M, _FLAG_K = 1, 2, 4, 8, 16, 32


class Strobe128:
    def __init__(self, protocol_label=None):
        if protocol_label is None:  # for clone()
            return
        st = bytearray(200)
        st[0:6] = bytes([1, _R + 2, 1, 0, 1, 96])
        st[6:18] = b"STROBEv1.0.2"  # 12 bytes: no hyphen, as in Merlin's strobe.rs
        keccak_f1600(st)
        self.state, self.pos, self.pos_begin, self.cur_flags = st, 0, 0, 0
        self.meta_ad(protocol_label, False)

    def clone(self):
        s = Strobe128()
        s.state, s.pos, s.pos_begin, s.cur_flags = bytearray(self.state), self.pos, self.pos_begin, self.cur_flags
        return s

    def _run_f(self):
        self.state[self.pos] ^= self.pos_begin
        self.state[self.pos + 1] ^= 0x04
        self.state[_R + 1] ^= 0x80
        keccak_f1600(self.state)
        self.pos = self.pos_begin = 0

    def _absorb(self, data):
        for byte in data:
            self.state[self.pos] ^= byte
            self.pos += 1
            if self.pos == _R:
                self._run_f()

    def _squeeze(self, n):
        out = bytearray(n)
        for i in range(n):
            out[i] = self.state[self.pos]
            self.state[self.pos] = 0
            self.pos += 1
            if self.pos == _R:
                self._run_f()
        return bytes(out)

    def _begin_op(self, flags, more):
        if more:
            if self.cur_flags != flags:
                raise ValueError("STROBE: continued operation with other flags")
            return
        if flags & _FLAG_T:
            raise ValueError("STROBE: transport operations are not used by Merlin")
        old_begin = self.pos_begin
        self.pos_begin = self.pos + 1
        self.cur_flags = flags
        self._absorb(bytes([old_begin, flags]))
        if flags & (_FLAG_C | _FLAG_K) and self.pos != 0:
            self._run_f()

    def meta_ad(self, data, more):
        self._begin_op(_FLAG_M | _FLAG_A, more)
        self._absorb(data)

    def ad(self, data, more):
        self._begin_op(_FLAG_A, more)
        self._absorb(data)

    def prf(self, n, more):
        self._begin_op(_FLAG_I | _FLAG_A | _FLAG_C, more)
        return self._squeeze(n)


# --------------------------------------------------------------------------
# Merlin

class Transcript:
    def __init__(self, label=None):
        if label is None:  # for clone()
            return
        self.strobe = Strobe128(b"Merlin v1.0")
        self.append_message(b"dom-sep", label)

    def clone(self):
        t = Transcript()
        t.strobe = self.strobe.clone()
        return t

    def append_message(self, label, message):
        self.strobe.meta_ad(label, False)
        self.strobe.meta_ad(len(message).to_bytes(4, "little"), True)
        self.strobe.ad(message, False)

    def append_u64(self, label, x):
        self.append_message(label, x.to_bytes(8, "little"))

    def challenge_bytes(self, label, n):
        self.strobe.meta_ad(label, False)
        self.strobe.meta_ad(n.to_bytes(4, "little"), True)
        return self.strobe.prf(n, False)
