"""The locked key file of docs/FORMAT.md section 16.2, in Python.

Written from FORMAT.md alone (section 16 is informative: nothing here is part
of a ledger or of the verifier's verdicts). It shares no code with the Rust
implementation: libsodium through PyNaCl for argon2id
(`crypto_pwhash_argon2id`), XSalsa20-Poly1305 (`crypto_secretbox`) and the
Ed25519 public key of a seed.

    read_locked_key(text, passphrase) -> seed (32 bytes)
    write_locked_key(seed, passphrase, ...) -> text (to test the reader)

Every refusal raises LockedKeyError, whose `kind` says which rule of section
16.2 refused the file:

    "malformed"   not a JSON object of the fields shown, with their types and
                  encodings (unknown fields, missing fields, bad base64 or hex)
    "format"      unknown `format`
    "cipher"      unknown `cipher`
    "kdf"         unknown `kdf.name` or `kdf.version`
    "kdf_range"   `parallelism` other than 1, `memory_kib` outside
                  8..=1,048,576, `iterations` outside 1..=16
    "length"      a nonce that is not 24 bytes (and, by assumption, a salt
                  that is not 16 bytes or a box that is not 48 bytes)
    "box"         a box that does not open ("wrong passphrase, or the file
                  was altered")
    "public_key"  a seed whose public key differs from `public_key`

Where section 16.2 leaves a point open, the comment says "Assumption:" and
what was chosen.
"""
import base64
import binascii
import json
import os
import re

import unicodedata

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing

FORMAT = "dauys-locked-key/1"
CIPHER = "xsalsa20poly1305"
KDF_NAME = "argon2id"
KDF_VERSION = 19  # 0x13, RFC 9106's version
MEMORY_KIB = (8, 1_048_576)
ITERATIONS = (1, 16)
SALT_BYTES = 16
NONCE_BYTES = 24
TAG_BYTES = 16
SEED_BYTES = 32
SEALED_BYTES = TAG_BYTES + SEED_BYTES  # 48

TOP_FIELDS = {"format", "public_key", "kdf", "cipher", "nonce", "sealed"}
KDF_FIELDS = {"name", "version", "memory_kib", "iterations", "parallelism", "salt"}

WRONG_PASSPHRASE = "wrong passphrase, or the file was altered"  # section 16.2's words


class LockedKeyError(Exception):
    def __init__(self, kind, reason):
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


def _refuse(kind, reason):
    raise LockedKeyError(kind, reason)


def _no_duplicates(pairs):
    # Assumption: section 16.2 does not say; a member named twice is refused
    # (a reader must not pick one of two values silently).
    seen = {}
    for k, v in pairs:
        if k in seen:
            _refuse("malformed", f"field {k!r} twice")
        seen[k] = v
    return seen


def _b64(value, field):
    """Assumption: section 16.2 writes only "<base64, N bytes>"; read as the
    base64 of sections 7 and 14: RFC 4648 standard alphabet, `=` padding,
    zero trailing bits, no whitespace (the one spelling of each value)."""
    if not isinstance(value, str):
        _refuse("malformed", f"{field} is not a string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        _refuse("malformed", f"{field} is not base64")
    if base64.b64encode(raw).decode() != value:
        _refuse("malformed", f"{field} is not canonical base64")
    return raw


def _int(value, field):
    # Assumption: the numbers are JSON integers (19, not 19.0 or "19"; not true).
    if type(value) is not int:
        _refuse("malformed", f"{field} is not an integer")
    return value


def _fields(obj, want, where):
    if not isinstance(obj, dict):
        _refuse("malformed", f"{where} is not a JSON object")
    unknown = sorted(set(obj) - want)
    if unknown:
        _refuse("malformed", f"unknown field {where}.{unknown[0]}")  # "A reader refuses ... unknown fields"
    # Assumption: every field shown is required (section 16.2 lists no optional one).
    missing = sorted(want - set(obj))
    if missing:
        _refuse("malformed", f"missing field {where}.{missing[0]}")


def parse_locked_key(text):
    """Every check that needs no passphrase, in the order of section 16.2's
    list. Returns a dict of the decoded values."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            _refuse("malformed", "not UTF-8")
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except LockedKeyError:
        raise
    except ValueError as e:
        _refuse("malformed", f"not JSON ({e})")
    _fields(obj, TOP_FIELDS, "file")
    kdf = obj["kdf"]
    _fields(kdf, KDF_FIELDS, "kdf")

    # "A reader refuses unknown `format`, `cipher`, `kdf.name` or `kdf.version`"
    if obj["format"] != FORMAT:
        _refuse("format", f"unknown format {obj['format']!r}")
    if obj["cipher"] != CIPHER:
        _refuse("cipher", f"unknown cipher {obj['cipher']!r}")
    if kdf["name"] != KDF_NAME:
        _refuse("kdf", f"unknown kdf.name {kdf['name']!r}")
    if type(kdf["version"]) is not int or kdf["version"] != KDF_VERSION:
        _refuse("kdf", f"unknown kdf.version {kdf['version']!r}")

    # "`parallelism` other than 1, `memory_kib` outside 8..=1,048,576 and
    # `iterations` outside 1..=16 (a hostile file cannot ask for gigabytes or
    # hours)": checked before any derivation.
    parallelism = _int(kdf["parallelism"], "kdf.parallelism")
    memory_kib = _int(kdf["memory_kib"], "kdf.memory_kib")
    iterations = _int(kdf["iterations"], "kdf.iterations")
    if parallelism != 1:
        _refuse("kdf_range", f"parallelism {parallelism}, not 1")
    if not MEMORY_KIB[0] <= memory_kib <= MEMORY_KIB[1]:
        _refuse("kdf_range", f"memory_kib {memory_kib} outside 8..=1048576")
    if not ITERATIONS[0] <= iterations <= ITERATIONS[1]:
        _refuse("kdf_range", f"iterations {iterations} outside 1..=16")

    salt = _b64(kdf["salt"], "kdf.salt")
    nonce = _b64(obj["nonce"], "nonce")
    sealed = _b64(obj["sealed"], "sealed")
    # "a nonce that is not 24 bytes"
    if len(nonce) != NONCE_BYTES:
        _refuse("length", f"nonce of {len(nonce)} bytes, not 24")
    # Assumption: the list names only the nonce's length; the salt ("<base64,
    # 16 bytes>") and the box ("<base64, 48 bytes>", tag and the 32-byte seed)
    # of other lengths are refused too (libsodium's argon2id takes exactly 16
    # bytes of salt; a box of other length would not hold a 32-byte seed).
    if len(salt) != SALT_BYTES:
        _refuse("length", f"salt of {len(salt)} bytes, not 16")
    if len(sealed) != SEALED_BYTES:
        _refuse("length", f"sealed of {len(sealed)} bytes, not 48")

    # Assumption: "<64 hex>" is 64 lowercase hex digits, as the seed of 16.1
    # and every hash of the export (section 7).
    public = obj["public_key"]
    if not isinstance(public, str) or not re.fullmatch(r"[0-9a-f]{64}", public):
        _refuse("malformed", "public_key is not 64 lowercase hex digits")

    return {"public_key": bytes.fromhex(public), "salt": salt, "nonce": nonce, "sealed": sealed,
            "memory_kib": memory_kib, "iterations": iterations}


def box_key(passphrase, salt, memory_kib, iterations):
    """"argon2id (RFC 9106, version 0x13) of the passphrase's UTF-8 bytes,
    after Unicode NFC normalization, with the 16-byte salt and the
    parameters given (memory_kib is argon2's m in KiB, iterations its t,
    parallelism its p), 32 bytes of output" (section 16.2). libsodium's
    argon2id has one lane: opslimit is t, memlimit is m in bytes.
    """
    if isinstance(passphrase, str):
        passphrase = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return nacl.pwhash.argon2id.kdf(32, passphrase, salt, opslimit=iterations, memlimit=memory_kib * 1024)


def read_locked_key(text, passphrase):
    """The seed of a locked key file, or LockedKeyError."""
    f = parse_locked_key(text)
    key = box_key(passphrase, f["salt"], f["memory_kib"], f["iterations"])
    # "`sealed` is ... written tag (16 bytes) first, then the ciphertext (32
    # bytes)": NaCl's combined form, which SecretBox.decrypt takes as is.
    try:
        seed = nacl.secret.SecretBox(key).decrypt(f["sealed"], f["nonce"])
    except nacl.exceptions.CryptoError:
        _refuse("box", WRONG_PASSPHRASE)
    # "a seed whose public key differs from `public_key`"
    if bytes(nacl.signing.SigningKey(seed).verify_key) != f["public_key"]:
        _refuse("public_key", "the seed's public key differs from public_key")
    return seed


def write_locked_key(seed, passphrase, memory_kib=19456, iterations=2, salt=None, nonce=None, **override):
    """A locked key file as section 16.2 describes it (fresh salt and nonce
    unless given). `override` replaces top-level fields, or kdf fields named
    `kdf_<field>`, to build files a reader must refuse."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    key = box_key(passphrase, salt, memory_kib, iterations)
    sealed = nacl.secret.SecretBox(key).encrypt(seed, nonce).ciphertext  # tag first, then ciphertext
    obj = {
        "format": FORMAT,
        "public_key": bytes(nacl.signing.SigningKey(seed).verify_key).hex(),
        "kdf": {"name": KDF_NAME, "version": KDF_VERSION, "memory_kib": memory_kib, "iterations": iterations,
                "parallelism": 1, "salt": base64.b64encode(salt).decode()},
        "cipher": CIPHER,
        "nonce": base64.b64encode(nonce).decode(),
        "sealed": base64.b64encode(sealed).decode(),
    }
    for k, v in override.items():
        if k.startswith("kdf_"):
            obj["kdf"][k[4:]] = v
        else:
            obj[k] = v
    return json.dumps(obj)
