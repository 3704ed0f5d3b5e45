//! The text screen for excluded subjects: published terms matched as whole
//! words in titles, texts, referendum questions and options.
//!
//! Both algorithms read their Unicode data from crates pinned to exact
//! versions (ICU4X 2.4 and unicode-rs, all Unicode 18.0.0), never from the
//! standard library, so a verdict cannot change with the Rust toolchain.
//! `docs/FORMAT.md` section 9 specifies both step by step.
//!
//! - **Format 1** (kept as it was): a word is a maximal run of characters
//!   that are Alphabetic or of general category Nd, Nl or No; words are
//!   lowercased with the full default lowercase mapping; a term matches when
//!   its words occur as consecutive words of the text.
//! - **Format 2** resists the usual tricks: the text is NFKC-normalised and
//!   stripped of default-ignorable code points (zero-width spaces, soft
//!   hyphens, joiners, bidi controls), words are runs of letters, marks and
//!   numbers, compared after full case folding, and a word that mixes scripts
//!   or is written in another script than the term word is also compared by
//!   its UTS #39 confusable skeleton ("tаx" with a Cyrillic а is "tax").

use icu_casemap::CaseMapper;
use icu_locale_core::LanguageIdentifier;
use icu_properties::props::{Alphabetic, DefaultIgnorableCodePoint, GeneralCategory, GeneralCategoryGroup};
use icu_properties::{CodePointMapData, CodePointSetData};
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;
use unicode_security::mixed_script::AugmentedScriptSet;

use crate::event::Version;

/// The Unicode version of every table the screen uses.
pub const UNICODE_VERSION: &str = "18.0.0";

fn general_category(c: char) -> GeneralCategory {
    CodePointMapData::<GeneralCategory>::new().get(c)
}

/// Format 1 word characters: Alphabetic, or Nd, Nl, No.
fn is_word_char_v1(c: char) -> bool {
    CodePointSetData::new::<Alphabetic>().contains(c) || GeneralCategoryGroup::Number.contains(general_category(c))
}

/// Format 2 word characters: general category L, M or N.
fn is_word_char_v2(c: char) -> bool {
    let category = general_category(c);
    GeneralCategoryGroup::Letter.contains(category)
        || GeneralCategoryGroup::Mark.contains(category)
        || GeneralCategoryGroup::Number.contains(category)
}

fn split(text: &str, is_word_char: impl Fn(char) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if is_word_char(c) {
            current.push(c);
        } else if !current.is_empty() {
            out.push(core::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// One word as the screen compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    /// Format 1: the lowercased word. Format 2: NFKC of the case-folded word.
    plain: String,
    /// Format 2: NFKC of the case-folded UTS #39 skeleton (empty in format 1).
    skeleton: String,
    /// Format 2: the word's augmented script set.
    scripts: Option<AugmentedScriptSet>,
}

fn fold(text: &str) -> String {
    CaseMapper::new().fold_string(text).nfkc().collect()
}

/// Splits `text` into the words the screen of `version` compares.
fn words(version: Version, text: &str) -> Vec<Word> {
    match version {
        Version::V1 => split(text, is_word_char_v1)
            .into_iter()
            .map(|word| Word {
                plain: CaseMapper::new().lowercase_to_string(&word, &LanguageIdentifier::UNKNOWN).into_owned(),
                skeleton: String::new(),
                scripts: None,
            })
            .collect(),
        Version::V2 | Version::V3 => {
            let normalised: String =
                text.nfkc().filter(|&c| !CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)).collect();
            split(&normalised, is_word_char_v2)
                .into_iter()
                .map(|word| Word {
                    plain: fold(&word),
                    skeleton: fold(&skeleton(&word).collect::<String>()),
                    scripts: Some(AugmentedScriptSet::for_str(&word)),
                })
                .collect()
        }
    }
}

/// Whether a text word stands for a term word.
fn same_word(text: &Word, term: &Word) -> bool {
    if text.plain == term.plain {
        return true;
    }
    let (Some(text_scripts), Some(term_scripts)) = (text.scripts, term.scripts) else { return false };
    // Compared by skeleton only when the text word mixes scripts, or shares
    // no script with the term word: a whole-script or mixed-script
    // confusable, never two ordinary words of one script.
    let mut common = text_scripts;
    common.intersect_with(term_scripts);
    (text_scripts.is_empty() || common.is_empty()) && text.skeleton == term.skeleton
}

/// One compiled term: the subject it screens for, its text, its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The excluded subject's id.
    pub subject: String,
    /// The term as published.
    pub term: String,
    words: Vec<Word>,
}

/// The compiled screen, in publication order: subjects in genesis order,
/// terms in the order listed under each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    version: Version,
    terms: Vec<Term>,
}

impl Screen {
    /// Compiles the screen of a ledger of `version`. Returns the first term
    /// with no word in it.
    pub fn compile(version: Version, subjects: &[crate::event::Subject]) -> Result<Self, String> {
        let mut terms = Vec::new();
        for subject in subjects {
            for term in &subject.terms {
                let term_words = words(version, term);
                if term_words.is_empty() {
                    return Err(term.clone());
                }
                terms.push(Term { subject: subject.id.clone(), term: term.clone(), words: term_words });
            }
        }
        Ok(Self { version, terms })
    }

    /// The first term (in publication order) found in any of `texts`.
    pub fn find(&self, texts: &[&str]) -> Option<&Term> {
        if self.terms.is_empty() {
            return None;
        }
        let texts: Vec<Vec<Word>> = texts.iter().map(|text| words(self.version, text)).collect();
        self.terms.iter().find(|term| {
            texts.iter().any(|text| {
                text.windows(term.words.len())
                    .any(|window| window.iter().zip(&term.words).all(|(word, term_word)| same_word(word, term_word)))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Subject;

    fn screen(version: Version) -> Screen {
        Screen::compile(
            version,
            &[
                Subject { id: "roads".into(), excluded: false, terms: vec![] },
                Subject {
                    id: "budget".into(),
                    excluded: true,
                    terms: vec!["бюджет".into(), "Budget".into(), "tax".into(), "тариф салығы".into()],
                },
                Subject { id: "staffing".into(), excluded: true, terms: vec!["әкім".into()] },
            ],
        )
        .unwrap()
    }

    #[track_caller]
    fn check(version: Version, text: &str, expected: Option<(&str, &str)>) {
        let found = screen(version).find(&[text]).map(|t| (t.subject.clone(), t.term.clone()));
        assert_eq!(found, expected.map(|(s, t)| (s.to_owned(), t.to_owned())), "{version:?} text: {text:?}");
    }

    #[test]
    fn matches_whole_words_case_insensitively_in_both_formats() {
        for version in [Version::V1, Version::V2] {
            check(version, "Пересмотреть БЮДЖЕТ села", Some(("budget", "бюджет")));
            check(version, "the budget, again", Some(("budget", "Budget")));
            check(version, "budgetary matters", None);
            check(version, "Ауыл ӘКІМІ", None);
            check(version, "ауыл әкім", Some(("staffing", "әкім")));
            check(version, "жаңа тариф  салығы!", Some(("budget", "тариф салығы")));
            check(version, "тариф. салығы", Some(("budget", "тариф салығы")));
            check(version, "a new playground", None);
        }
    }

    #[test]
    fn format_1_is_kept_as_it_was() {
        // The tricks that format 2 catches pass format 1 unchanged: its
        // verdicts on old ledgers must never move.
        check(Version::V1, "t\u{200b}ax", None);
        check(Version::V1, "t\u{430}x", None);
        check(Version::V1, "\u{ff54}\u{ff41}\u{ff58}", None);
    }

    #[test]
    fn format_2_defeats_invisible_and_lookalike_characters() {
        let tax = Some(("budget", "tax"));
        check(Version::V2, "raise the t\u{200b}ax", tax); // zero-width space
        check(Version::V2, "ta\u{ad}x relief", tax); // soft hyphen
        check(Version::V2, "t\u{200d}a\u{2060}x", tax); // joiner, word joiner
        check(Version::V2, "\u{202e}tax\u{202c}", tax); // bidi override
        check(Version::V2, "t\u{430}x", tax); // Cyrillic а among Latin letters
        check(Version::V2, "\u{422}\u{410}\u{425}", tax); // ТАХ, all Cyrillic capitals
        check(Version::V2, "\u{ff54}\u{ff41}\u{ff58}", tax); // fullwidth
        check(Version::V2, "\u{1d42d}\u{1d41a}\u{1d431}", tax); // mathematical bold
        check(Version::V2, "TAX", tax);
        check(Version::V2, "БЮДЖЕТ", Some(("budget", "бюджет")));
        check(Version::V2, "бю\u{200b}джет", Some(("budget", "бюджет")));
        // Ordinary words of one script are never compared by skeleton:
        // "modern" and "modem" share a skeleton, yet "modem" is not "modern".
        let modern = Screen::compile(
            Version::V2,
            &[Subject { id: "budget".into(), excluded: true, terms: vec!["modern".into()] }],
        )
        .unwrap();
        assert!(modern.find(&["a modem"]).is_none());
        assert!(modern.find(&["a MODERN"]).is_some());
        check(Version::V2, "taxi rank", None);
        check(Version::V2, "syntax", None);
    }

    #[test]
    fn term_without_words_is_refused() {
        let subjects = [Subject { id: "budget".into(), excluded: true, terms: vec!["--".into()] }];
        assert_eq!(Screen::compile(Version::V1, &subjects), Err("--".to_owned()));
        let ignorable = [Subject { id: "budget".into(), excluded: true, terms: vec!["\u{200b}".into()] }];
        assert_eq!(Screen::compile(Version::V2, &ignorable), Err("\u{200b}".to_owned()));
    }
}
