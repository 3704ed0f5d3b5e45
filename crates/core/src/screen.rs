//! The text screen for excluded subjects: whole-word, case-insensitive
//! matching of published terms in titles, texts and referendum questions.
//!
//! A word is a maximal run of characters that are alphanumeric in the
//! Unicode sense (derived property Alphabetic, or general category Nd, Nl or
//! No). Each word is lowercased with the Unicode default (full) lowercase
//! mapping. A term matches when its words appear as consecutive words of the
//! text. No other normalisation is applied.

/// Splits `text` into lowercase words.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            current.push(c);
        } else if !current.is_empty() {
            out.push(current.to_lowercase());
            current.clear();
        }
    }
    if !current.is_empty() {
        out.push(current.to_lowercase());
    }
    out
}

/// One compiled term: the subject it screens for, its text, its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The excluded subject's id.
    pub subject: String,
    /// The term as published.
    pub term: String,
    words: Vec<String>,
}

/// The compiled screen, in publication order: subjects in genesis order,
/// terms in the order listed under each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    terms: Vec<Term>,
}

impl Screen {
    /// Compiles the screen. Returns the first term with no word in it.
    pub fn compile(subjects: &[crate::event::Subject]) -> Result<Self, String> {
        let mut terms = Vec::new();
        for subject in subjects {
            for term in &subject.terms {
                let term_words = words(term);
                if term_words.is_empty() {
                    return Err(term.clone());
                }
                terms.push(Term { subject: subject.id.clone(), term: term.clone(), words: term_words });
            }
        }
        Ok(Self { terms })
    }

    /// The first term (in publication order) found in any of `texts`.
    pub fn find(&self, texts: &[&str]) -> Option<&Term> {
        let texts: Vec<Vec<String>> = texts.iter().map(|text| words(text)).collect();
        self.terms.iter().find(|term| {
            texts.iter().any(|text| text.windows(term.words.len()).any(|window| window == term.words.as_slice()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Subject;

    fn screen() -> Screen {
        Screen::compile(&[
            Subject { id: "roads".into(), excluded: false, terms: vec![] },
            Subject {
                id: "budget".into(),
                excluded: true,
                terms: vec!["бюджет".into(), "Budget".into(), "тариф салығы".into()],
            },
            Subject { id: "staffing".into(), excluded: true, terms: vec!["әкім".into()] },
        ])
        .unwrap()
    }

    #[track_caller]
    fn check(text: &str, expected: Option<(&str, &str)>) {
        let found = screen().find(&[text]).map(|t| (t.subject.clone(), t.term.clone()));
        assert_eq!(found, expected.map(|(s, t)| (s.to_owned(), t.to_owned())), "text: {text}");
    }

    #[test]
    fn matches_whole_words_case_insensitively() {
        check("Пересмотреть БЮДЖЕТ села", Some(("budget", "бюджет")));
        check("the budget, again", Some(("budget", "Budget")));
        check("budgetary matters", None);
        check("Ауыл ӘКІМІ", None);
        check("ауыл әкім", Some(("staffing", "әкім")));
        check("жаңа тариф  салығы!", Some(("budget", "тариф салығы")));
        check("тариф. салығы", Some(("budget", "тариф салығы")));
        check("a new playground", None);
    }

    #[test]
    fn term_without_words_is_refused() {
        let subjects = [Subject { id: "budget".into(), excluded: true, terms: vec!["--".into()] }];
        assert_eq!(Screen::compile(&subjects), Err("--".to_owned()));
    }
}
