//! Events: what each act says, and its canonical payload bytes.
//!
//! A payload is what the author signs. It opens with a domain tag, the format
//! version, the ledger id and the event kind, so a signature made for one
//! ledger or one kind can never be replayed as another. `docs/FORMAT.md`
//! gives the byte layout of every kind; [`Payload::decode`] accepts exactly
//! those bytes and nothing else.

use crate::codec::{check_range, DecodeError, Reader, Writer};
use crate::limits::*;
use crate::secret::{DecryptionShare, SecretBallot, SHARE_OPTION_BYTES};
use crate::{Hash, PublicKey};

/// The eight bytes that open every payload.
pub const PAYLOAD_MAGIC: &[u8; 8] = b"DAUYSEVT";

/// A ledger's format version, fixed by its genesis entry: every entry and
/// every payload of the ledger carries it.
///
/// Format 1 is kept byte for byte so that old ledgers verify with the same
/// verdicts; new ledgers are format 2 (see `docs/FORMAT.md`, section 12,
/// for every difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(into = "u16")]
pub enum Version {
    /// The first format: open ballots, the duplicate-payload rule, the
    /// word screen of Unicode 18.0.0 without normalisation.
    V1,
    /// Checkpoint origin in genesis, per-author nonces, bounded time and
    /// entry size, the normalising screen, the stricter rules.
    V2,
    /// Format 2 with secret referendums: trustees named in the call, the
    /// key ceremony on the log, encrypted ballots with proofs, re-voting,
    /// decryption shares, declarations checked against the decryption.
    V3,
}

impl Version {
    /// The version new ledgers are written in.
    pub const LATEST: Version = Version::V3;

    /// The version for its number.
    pub fn from_u16(number: u16) -> Option<Self> {
        match number {
            1 => Some(Version::V1),
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            _ => None,
        }
    }
    /// The number written in entries and payloads.
    pub fn number(self) -> u16 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
    /// Largest payload of this format.
    pub fn payload_bytes_max(self) -> usize {
        match self {
            Version::V1 => PAYLOAD_BYTES_MAX_V1,
            Version::V2 | Version::V3 => PAYLOAD_BYTES_MAX_V2,
        }
    }
    /// Largest entry of this format.
    pub fn entry_bytes_max(self) -> usize {
        match self {
            Version::V1 => ENTRY_BYTES_MAX_V1,
            Version::V2 | Version::V3 => ENTRY_BYTES_MAX_V2,
        }
    }
}

impl From<Version> for u16 {
    fn from(version: Version) -> u16 {
        version.number()
    }
}

/// The kind of an event, as its tag byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum EventKind {
    /// Genesis: the jurisdiction, the role keys and the rules.
    LedgerOpened = 1,
    /// The commission enrols one or more voters.
    VotersEnrolled = 2,
    /// The commission removes a voter.
    VoterRemoved = 3,
    /// A voter files a petition.
    PetitionFiled = 4,
    /// A voter supports a petition.
    PetitionSupported = 5,
    /// The commission records supports collected and verified on paper.
    PaperSupportsRecorded = 6,
    /// The initiator withdraws a petition.
    PetitionWithdrawn = 7,
    /// The commission admits one screened text by its content hash.
    ContentAdmitted = 8,
    /// The council rules on a petition.
    CouncilRuled = 9,
    /// The commission calls a referendum on a rejected petition.
    ReferendumCalled = 10,
    /// A voter casts a ballot.
    BallotCast = 11,
    /// The commission declares a referendum's result.
    ResultDeclared = 12,
    /// Format 3: a trustee commits to its key share and publishes the key
    /// that its ceremony shares are encrypted to.
    TrusteeCommitted = 13,
    /// Format 3: a trustee publishes its public polynomial.
    TrusteeDealt = 14,
    /// Format 3: a trustee sends every other trustee its share, encrypted.
    TrusteeSharesSent = 15,
    /// Format 3: a trustee shows that a share sent to it is bad.
    TrusteeComplained = 16,
    /// Format 3: a trustee publishes its decryption share of the tally.
    DecryptionShared = 17,
}

impl EventKind {
    /// The kind for a tag byte.
    pub fn from_tag(tag: u8) -> Option<Self> {
        use EventKind::*;
        Some(match tag {
            1 => LedgerOpened,
            2 => VotersEnrolled,
            3 => VoterRemoved,
            4 => PetitionFiled,
            5 => PetitionSupported,
            6 => PaperSupportsRecorded,
            7 => PetitionWithdrawn,
            8 => ContentAdmitted,
            9 => CouncilRuled,
            10 => ReferendumCalled,
            11 => BallotCast,
            12 => ResultDeclared,
            13 => TrusteeCommitted,
            14 => TrusteeDealt,
            15 => TrusteeSharesSent,
            16 => TrusteeComplained,
            17 => DecryptionShared,
            _ => return None,
        })
    }
    /// The stable snake_case name used in the API and the export.
    pub fn name(self) -> &'static str {
        use EventKind::*;
        match self {
            LedgerOpened => "ledger_opened",
            VotersEnrolled => "voters_enrolled",
            VoterRemoved => "voter_removed",
            PetitionFiled => "petition_filed",
            PetitionSupported => "petition_supported",
            PaperSupportsRecorded => "paper_supports_recorded",
            PetitionWithdrawn => "petition_withdrawn",
            ContentAdmitted => "content_admitted",
            CouncilRuled => "council_ruled",
            ReferendumCalled => "referendum_called",
            BallotCast => "ballot_cast",
            ResultDeclared => "result_declared",
            TrusteeCommitted => "trustee_committed",
            TrusteeDealt => "trustee_dealt",
            TrusteeSharesSent => "trustee_shares_sent",
            TrusteeComplained => "trustee_complained",
            DecryptionShared => "decryption_shared",
        }
    }
}

/// One subject of the published taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subject {
    /// Identifier: lowercase ASCII letters, digits and `-`.
    pub id: String,
    /// Whether petitions and referendums on it are refused.
    pub excluded: bool,
    /// Screen terms (Kazakh, Russian, English), only on excluded subjects.
    #[serde(default)]
    pub terms: Vec<String>,
}

/// The rules a ledger publishes in its genesis. Durations in milliseconds,
/// shares in basis points (1/100 of a percent). No floats anywhere.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rules {
    /// How long a petition collects supports after filing.
    pub signing_period_ms: u64,
    /// How long the council has to rule after the threshold is reached.
    pub council_response_period_ms: u64,
    /// Shortest referendum voting window.
    pub referendum_window_min_ms: u64,
    /// Longest referendum voting window.
    pub referendum_window_max_ms: u64,
    /// Absolute supports needed (0: none).
    pub threshold_supports_min: u64,
    /// Share of enrolled voters needed, in basis points (0: none).
    pub threshold_share_bp: u16,
    /// The proposal (option 0) must win strictly more than this share of
    /// valid ballots.
    pub approval_share_bp: u16,
    /// The proposal must win at least this share of the electorate.
    pub yes_share_of_electorate_bp: u16,
    /// The subject taxonomy with its excluded subjects and their screens.
    pub subjects: Vec<Subject>,
}

/// Genesis body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerOpened {
    /// The jurisdiction this ledger serves.
    pub jurisdiction: String,
    /// The checkpoint origin (format 2; `None` in format 1): the first line
    /// of every checkpoint the log key signs.
    pub origin: Option<String>,
    /// The election commission's key: enrols, calls, declares.
    pub commission_key: PublicKey,
    /// The node's log key: signs heads and receipts, authors nothing.
    pub log_key: PublicKey,
    /// The council's key: rules on petitions.
    pub council_key: PublicKey,
    /// The rules.
    pub rules: Rules,
}

/// A council decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The council accepts: the petition is to be implemented.
    Accept,
    /// The council rejects: the petition may go to a referendum.
    Reject,
}

/// A referendum outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The proposal met the approval share and the electorate share.
    Approved,
    /// It did not.
    NotApproved,
}

/// A ballot body, by ballot version: open ballots in formats 1 and 2,
/// secret ballots in format 3.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ballot {
    /// Version 1: an open ballot naming the chosen option's index.
    Open {
        /// Index into the referendum's options.
        choice: u8,
    },
    /// Version 2: one ciphertext per option with its proofs (FORMAT.md
    /// section 15).
    Secret(#[serde(serialize_with = "hex_ballot")] SecretBallot),
}

fn hex_ballot<S: serde::Serializer>(ballot: &SecretBallot, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(ballot.to_bytes()))
}

/// The trustees of a secret referendum and how many of them decrypt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trustees {
    /// The trustees' Ed25519 keys, in index order (index 0 first).
    #[serde(serialize_with = "hex_keys")]
    pub keys: Vec<PublicKey>,
    /// How many trustees' shares decrypt the tally (at least 2).
    pub threshold: u8,
}

fn hex_keys<S: serde::Serializer>(keys: &[PublicKey], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(keys.iter().map(hex::encode))
}

/// One ceremony share, encrypted to its recipient trustee: a
/// `crypto_box` (X25519, XSalsa20-Poly1305) of the 32-byte scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SealedShare {
    /// The box nonce.
    #[serde(with = "crate::hexser")]
    pub nonce: [u8; 24],
    /// The sealed scalar: 32 bytes and the 16-byte tag.
    #[serde(serialize_with = "hex_sealed")]
    pub sealed: [u8; 48],
}

fn hex_sealed<S: serde::Serializer>(sealed: &[u8; 48], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(sealed))
}

/// The body of an event, by kind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Genesis.
    LedgerOpened(LedgerOpened),
    /// Voters enrolled into one district (empty label: none).
    VotersEnrolled {
        /// District label, possibly empty.
        district: String,
        /// The voters' keys.
        keys: Vec<PublicKey>,
    },
    /// A voter removed.
    VoterRemoved {
        /// The voter's key.
        key: PublicKey,
        /// Why.
        reasons: String,
    },
    /// A petition filed.
    PetitionFiled {
        /// Declared subject id.
        subject: String,
        /// Title.
        title: String,
        /// Full text.
        text: String,
    },
    /// A petition supported.
    PetitionSupported {
        /// The petition.
        petition: Hash,
    },
    /// Supports collected on paper and verified offline.
    PaperSupportsRecorded {
        /// The petition.
        petition: Hash,
        /// How many supports the sheets hold.
        count: u64,
        /// SHA-256 of the scanned sheets.
        sheets_sha256: Hash,
    },
    /// A petition withdrawn by its initiator.
    PetitionWithdrawn {
        /// The petition.
        petition: Hash,
        /// Why (may be empty).
        reasons: String,
    },
    /// One screened text admitted.
    ContentAdmitted {
        /// The content hash of the admitted text (see FORMAT.md).
        content: Hash,
        /// Why the screen was overruled.
        reasons: String,
    },
    /// A council ruling.
    CouncilRuled {
        /// The petition.
        petition: Hash,
        /// Accept or reject.
        decision: Decision,
        /// Reasons.
        reasons: String,
    },
    /// A referendum called.
    ReferendumCalled {
        /// The rejected petition it decides.
        petition: Hash,
        /// Declared subject id.
        subject: String,
        /// The question.
        question: String,
        /// Options; the first is the proposal.
        options: Vec<String>,
        /// Voting opens (node time, ms).
        opens_at_ms: u64,
        /// Voting closes (node time, ms, exclusive).
        closes_at_ms: u64,
        /// Format 3: the trustees who hold the decryption key (absent in
        /// formats 1 and 2, required in format 3).
        trustees: Option<Trustees>,
    },
    /// A ballot cast.
    BallotCast {
        /// The referendum.
        referendum: Hash,
        /// The ballot.
        ballot: Ballot,
    },
    /// A declared result.
    ResultDeclared {
        /// The referendum.
        referendum: Hash,
        /// Ballots per option.
        tally: Vec<u64>,
        /// The declared outcome.
        outcome: Outcome,
    },
    /// A trustee's commitment (format 3).
    TrusteeCommitted {
        /// The referendum.
        referendum: Hash,
        /// SHA-256 of the trustee's key share element and its opening.
        #[serde(with = "crate::hexser")]
        commitment: Hash,
        /// The X25519 key the other trustees encrypt their shares to.
        #[serde(with = "crate::hexser")]
        box_key: [u8; 32],
    },
    /// A trustee's public polynomial (format 3).
    TrusteeDealt {
        /// The referendum.
        referendum: Hash,
        /// The polynomial's coefficients times G: `threshold` elements.
        #[serde(serialize_with = "hex_keys")]
        polynomial: Vec<[u8; 32]>,
        /// Proof of possession of every coefficient: a challenge and
        /// `threshold` responses, 32 bytes each.
        #[serde(serialize_with = "hex_bytes")]
        proof: Vec<u8>,
        /// The commitment's opening.
        #[serde(with = "crate::hexser")]
        opening: [u8; 32],
    },
    /// A trustee's encrypted shares, one per other trustee in index order
    /// (format 3).
    TrusteeSharesSent {
        /// The referendum.
        referendum: Hash,
        /// The sealed shares.
        shares: Vec<SealedShare>,
    },
    /// A trustee's complaint against another (format 3): it reveals its own
    /// ceremony box secret so that anyone can open the accused's share.
    TrusteeComplained {
        /// The referendum.
        referendum: Hash,
        /// The accused trustee's index.
        accused: u8,
        /// The complaining trustee's X25519 secret for this ceremony.
        #[serde(with = "crate::hexser")]
        box_secret: [u8; 32],
    },
    /// A trustee's decryption share of the closed tally (format 3).
    DecryptionShared {
        /// The referendum.
        referendum: Hash,
        /// Per option, `D` and its proof.
        #[serde(serialize_with = "hex_share")]
        share: DecryptionShare,
    },
}

fn hex_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

fn hex_share<S: serde::Serializer>(share: &DecryptionShare, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(share.to_bytes()))
}

impl Body {
    /// The kind of this body.
    pub fn kind(&self) -> EventKind {
        match self {
            Body::LedgerOpened(_) => EventKind::LedgerOpened,
            Body::VotersEnrolled { .. } => EventKind::VotersEnrolled,
            Body::VoterRemoved { .. } => EventKind::VoterRemoved,
            Body::PetitionFiled { .. } => EventKind::PetitionFiled,
            Body::PetitionSupported { .. } => EventKind::PetitionSupported,
            Body::PaperSupportsRecorded { .. } => EventKind::PaperSupportsRecorded,
            Body::PetitionWithdrawn { .. } => EventKind::PetitionWithdrawn,
            Body::ContentAdmitted { .. } => EventKind::ContentAdmitted,
            Body::CouncilRuled { .. } => EventKind::CouncilRuled,
            Body::ReferendumCalled { .. } => EventKind::ReferendumCalled,
            Body::BallotCast { .. } => EventKind::BallotCast,
            Body::ResultDeclared { .. } => EventKind::ResultDeclared,
            Body::TrusteeCommitted { .. } => EventKind::TrusteeCommitted,
            Body::TrusteeDealt { .. } => EventKind::TrusteeDealt,
            Body::TrusteeSharesSent { .. } => EventKind::TrusteeSharesSent,
            Body::TrusteeComplained { .. } => EventKind::TrusteeComplained,
            Body::DecryptionShared { .. } => EventKind::DecryptionShared,
        }
    }

    fn encode_into(&self, w: &mut Writer) {
        match self {
            Body::LedgerOpened(g) => {
                w.str(&g.jurisdiction);
                if let Some(origin) = &g.origin {
                    w.str(origin);
                }
                w.raw(&g.commission_key).raw(&g.log_key).raw(&g.council_key);
                let r = &g.rules;
                w.u64(r.signing_period_ms)
                    .u64(r.council_response_period_ms)
                    .u64(r.referendum_window_min_ms)
                    .u64(r.referendum_window_max_ms)
                    .u64(r.threshold_supports_min)
                    .u16(r.threshold_share_bp)
                    .u16(r.approval_share_bp)
                    .u16(r.yes_share_of_electorate_bp)
                    .count(r.subjects.len());
                for subject in &r.subjects {
                    w.str(&subject.id).u8(u8::from(subject.excluded)).count(subject.terms.len());
                    for term in &subject.terms {
                        w.str(term);
                    }
                }
            }
            Body::VotersEnrolled { district, keys } => {
                w.str(district).count(keys.len());
                for key in keys {
                    w.raw(key);
                }
            }
            Body::VoterRemoved { key, reasons } => {
                w.raw(key).str(reasons);
            }
            Body::PetitionFiled { subject, title, text } => {
                w.str(subject).str(title).str(text);
            }
            Body::PetitionSupported { petition } => {
                w.raw(petition);
            }
            Body::PaperSupportsRecorded { petition, count, sheets_sha256 } => {
                w.raw(petition).u64(*count).raw(sheets_sha256);
            }
            Body::PetitionWithdrawn { petition, reasons } => {
                w.raw(petition).str(reasons);
            }
            Body::ContentAdmitted { content, reasons } => {
                w.raw(content).str(reasons);
            }
            Body::CouncilRuled { petition, decision, reasons } => {
                let tag = match decision {
                    Decision::Accept => 1,
                    Decision::Reject => 2,
                };
                w.raw(petition).u8(tag).str(reasons);
            }
            Body::ReferendumCalled { petition, subject, question, options, opens_at_ms, closes_at_ms, trustees } => {
                w.raw(petition).str(subject).str(question).count(options.len());
                for option in options {
                    w.str(option);
                }
                w.u64(*opens_at_ms).u64(*closes_at_ms);
                if let Some(trustees) = trustees {
                    w.count(trustees.keys.len());
                    for key in &trustees.keys {
                        w.raw(key);
                    }
                    w.u8(trustees.threshold);
                }
            }
            Body::BallotCast { referendum, ballot } => {
                w.raw(referendum);
                match ballot {
                    Ballot::Open { choice } => w.u8(1).u8(*choice),
                    Ballot::Secret(ballot) => w.u8(2).count(ballot.options.len()).raw(&ballot.to_bytes()),
                };
            }
            Body::ResultDeclared { referendum, tally, outcome } => {
                w.raw(referendum).count(tally.len());
                for count in tally {
                    w.u64(*count);
                }
                w.u8(match outcome {
                    Outcome::Approved => 1,
                    Outcome::NotApproved => 2,
                });
            }
            Body::TrusteeCommitted { referendum, commitment, box_key } => {
                w.raw(referendum).raw(commitment).raw(box_key);
            }
            Body::TrusteeDealt { referendum, polynomial, proof, opening } => {
                w.raw(referendum).count(polynomial.len());
                for coefficient in polynomial {
                    w.raw(coefficient);
                }
                w.raw(proof).raw(opening);
            }
            Body::TrusteeSharesSent { referendum, shares } => {
                w.raw(referendum).count(shares.len());
                for share in shares {
                    w.raw(&share.nonce).raw(&share.sealed);
                }
            }
            Body::TrusteeComplained { referendum, accused, box_secret } => {
                w.raw(referendum).u8(*accused).raw(box_secret);
            }
            Body::DecryptionShared { referendum, share } => {
                w.raw(referendum).count(share.options.len()).raw(&share.to_bytes());
            }
        }
    }

    fn decode(kind: EventKind, version: Version, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut r = Strings { r, version };
        let r = &mut r;
        Ok(match kind {
            EventKind::LedgerOpened => {
                let jurisdiction = r.str("jurisdiction", 1, JURISDICTION_BYTES_MAX)?.to_owned();
                let origin = match version {
                    Version::V1 => None,
                    Version::V2 | Version::V3 => Some(r.str("origin", 1, ORIGIN_BYTES_MAX)?.to_owned()),
                };
                let commission_key = r.array("commission_key")?;
                let log_key = r.array("log_key")?;
                let council_key = r.array("council_key")?;
                let signing_period_ms = r.u64("signing_period_ms")?;
                let council_response_period_ms = r.u64("council_response_period_ms")?;
                let referendum_window_min_ms = r.u64("referendum_window_min_ms")?;
                let referendum_window_max_ms = r.u64("referendum_window_max_ms")?;
                let threshold_supports_min = r.u64("threshold_supports_min")?;
                let threshold_share_bp = r.u16("threshold_share_bp")?;
                let approval_share_bp = r.u16("approval_share_bp")?;
                let yes_share_of_electorate_bp = r.u16("yes_share_of_electorate_bp")?;
                let subject_count = r.count("subjects", 1, SUBJECTS_MAX)?;
                let mut subjects = Vec::with_capacity(subject_count);
                for _ in 0..subject_count {
                    let id = r.str("subject.id", 1, SUBJECT_ID_BYTES_MAX)?.to_owned();
                    let excluded = match r.u8("subject.excluded")? {
                        0 => false,
                        1 => true,
                        value => {
                            return Err(DecodeError::UnknownTag { field: "subject.excluded", value: value.into() })
                        }
                    };
                    let term_count = r.count("subject.terms", 0, SCREEN_TERMS_MAX)?;
                    let mut terms = Vec::with_capacity(term_count);
                    for _ in 0..term_count {
                        terms.push(r.str("subject.term", 1, SCREEN_TERM_BYTES_MAX)?.to_owned());
                    }
                    subjects.push(Subject { id, excluded, terms });
                }
                Body::LedgerOpened(LedgerOpened {
                    jurisdiction,
                    origin,
                    commission_key,
                    log_key,
                    council_key,
                    rules: Rules {
                        signing_period_ms,
                        council_response_period_ms,
                        referendum_window_min_ms,
                        referendum_window_max_ms,
                        threshold_supports_min,
                        threshold_share_bp,
                        approval_share_bp,
                        yes_share_of_electorate_bp,
                        subjects,
                    },
                })
            }
            EventKind::VotersEnrolled => {
                let district = r.str("district", 0, DISTRICT_BYTES_MAX)?.to_owned();
                let count = r.count("keys", 1, ENROL_KEYS_MAX)?;
                let mut keys = Vec::with_capacity(count);
                for _ in 0..count {
                    keys.push(r.array("key")?);
                }
                Body::VotersEnrolled { district, keys }
            }
            EventKind::VoterRemoved => {
                Body::VoterRemoved { key: r.array("key")?, reasons: r.str("reasons", 1, REASONS_BYTES_MAX)?.to_owned() }
            }
            EventKind::PetitionFiled => Body::PetitionFiled {
                subject: r.str("subject", 1, SUBJECT_ID_BYTES_MAX)?.to_owned(),
                title: r.str("title", 1, TITLE_BYTES_MAX)?.to_owned(),
                text: r.str("text", 1, TEXT_BYTES_MAX)?.to_owned(),
            },
            EventKind::PetitionSupported => Body::PetitionSupported { petition: r.array("petition")? },
            EventKind::PaperSupportsRecorded => {
                let petition = r.array("petition")?;
                let count = r.u64("count")?;
                check_range("count", count, 1, PAPER_SUPPORTS_PER_EVENT_MAX)?;
                Body::PaperSupportsRecorded { petition, count, sheets_sha256: r.array("sheets_sha256")? }
            }
            EventKind::PetitionWithdrawn => Body::PetitionWithdrawn {
                petition: r.array("petition")?,
                reasons: r.str("reasons", 0, REASONS_BYTES_MAX)?.to_owned(),
            },
            EventKind::ContentAdmitted => Body::ContentAdmitted {
                content: r.array("content")?,
                reasons: r.str("reasons", 1, REASONS_BYTES_MAX)?.to_owned(),
            },
            EventKind::CouncilRuled => {
                let petition = r.array("petition")?;
                let decision = match r.u8("decision")? {
                    1 => Decision::Accept,
                    2 => Decision::Reject,
                    value => return Err(DecodeError::UnknownTag { field: "decision", value: value.into() }),
                };
                Body::CouncilRuled { petition, decision, reasons: r.str("reasons", 1, REASONS_BYTES_MAX)?.to_owned() }
            }
            EventKind::ReferendumCalled => {
                let petition = r.array("petition")?;
                let subject = r.str("subject", 1, SUBJECT_ID_BYTES_MAX)?.to_owned();
                let question = r.str("question", 1, QUESTION_BYTES_MAX)?.to_owned();
                let count = r.count("options", OPTIONS_MIN, OPTIONS_MAX)?;
                let mut options = Vec::with_capacity(count);
                for _ in 0..count {
                    options.push(r.str("option", 1, OPTION_BYTES_MAX)?.to_owned());
                }
                let opens_at_ms = r.u64("opens_at_ms")?;
                let closes_at_ms = r.u64("closes_at_ms")?;
                let trustees = if version >= Version::V3 {
                    let count = r.count("trustees", TRUSTEES_MIN, TRUSTEES_MAX)?;
                    let mut keys = Vec::with_capacity(count);
                    for _ in 0..count {
                        keys.push(r.array("trustee")?);
                    }
                    let threshold = r.u8("threshold")?;
                    check_range("threshold", threshold.into(), TRUSTEES_MIN as u64, count as u64)?;
                    Some(Trustees { keys, threshold })
                } else {
                    None
                };
                Body::ReferendumCalled { petition, subject, question, options, opens_at_ms, closes_at_ms, trustees }
            }
            EventKind::BallotCast => {
                let referendum = r.array("referendum")?;
                let ballot = match (r.u8("ballot.version")?, version >= Version::V3) {
                    (1, false) => Ballot::Open { choice: r.u8("ballot.choice")? },
                    (2, true) => {
                        let options = r.count("ballot.options", OPTIONS_MIN, OPTIONS_MAX)?;
                        let bytes = r.r.take(SecretBallot::encoded_len(options), "ballot")?;
                        Ballot::Secret(SecretBallot::from_bytes(options, bytes).expect("the length was taken"))
                    }
                    (value, _) => return Err(DecodeError::UnknownTag { field: "ballot.version", value: value.into() }),
                };
                Body::BallotCast { referendum, ballot }
            }
            EventKind::ResultDeclared => {
                let referendum = r.array("referendum")?;
                let count = r.count("tally", OPTIONS_MIN, OPTIONS_MAX)?;
                let mut tally = Vec::with_capacity(count);
                for _ in 0..count {
                    tally.push(r.u64("tally.count")?);
                }
                let outcome = match r.u8("outcome")? {
                    1 => Outcome::Approved,
                    2 => Outcome::NotApproved,
                    value => return Err(DecodeError::UnknownTag { field: "outcome", value: value.into() }),
                };
                Body::ResultDeclared { referendum, tally, outcome }
            }
            EventKind::TrusteeCommitted
            | EventKind::TrusteeDealt
            | EventKind::TrusteeSharesSent
            | EventKind::TrusteeComplained
            | EventKind::DecryptionShared
                if version < Version::V3 =>
            {
                return Err(DecodeError::UnknownTag { field: "payload.kind", value: (kind as u8).into() })
            }
            EventKind::TrusteeCommitted => Body::TrusteeCommitted {
                referendum: r.array("referendum")?,
                commitment: r.array("commitment")?,
                box_key: r.array("box_key")?,
            },
            EventKind::TrusteeDealt => {
                let referendum = r.array("referendum")?;
                let count = r.count("polynomial", TRUSTEES_MIN, TRUSTEES_MAX)?;
                let mut polynomial = Vec::with_capacity(count);
                for _ in 0..count {
                    polynomial.push(r.array("polynomial.coefficient")?);
                }
                let proof = r.r.take(32 * (count + 1), "proof")?.to_vec();
                Body::TrusteeDealt { referendum, polynomial, proof, opening: r.array("opening")? }
            }
            EventKind::TrusteeSharesSent => {
                let referendum = r.array("referendum")?;
                let count = r.count("shares", TRUSTEES_MIN - 1, TRUSTEES_MAX - 1)?;
                let mut shares = Vec::with_capacity(count);
                for _ in 0..count {
                    shares.push(SealedShare { nonce: r.array("share.nonce")?, sealed: r.array("share.sealed")? });
                }
                Body::TrusteeSharesSent { referendum, shares }
            }
            EventKind::TrusteeComplained => Body::TrusteeComplained {
                referendum: r.array("referendum")?,
                accused: r.u8("accused")?,
                box_secret: r.array("box_secret")?,
            },
            EventKind::DecryptionShared => {
                let referendum = r.array("referendum")?;
                let options = r.count("share.options", OPTIONS_MIN, OPTIONS_MAX)?;
                let bytes = r.r.take(options * SHARE_OPTION_BYTES, "share")?;
                let share = DecryptionShare::from_bytes(options, bytes).expect("the length was taken");
                Body::DecryptionShared { referendum, share }
            }
        })
    }
}

/// A reader that applies the format's rule for strings: in format 2 no
/// string holds a control character (general category Cc) other than the
/// line feed U+000A.
struct Strings<'r, 'a> {
    r: &'r mut Reader<'a>,
    version: Version,
}

impl<'a> Strings<'_, 'a> {
    fn str(&mut self, field: &'static str, min: usize, max: usize) -> Result<&'a str, DecodeError> {
        let text = self.r.str(field, min, max)?;
        if self.version >= Version::V2 && text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(DecodeError::ControlCharacter { field });
        }
        Ok(text)
    }
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        self.r.array(field)
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.r.u8(field)
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.r.u16(field)
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        self.r.u64(field)
    }
    fn count(&mut self, field: &'static str, min: usize, max: usize) -> Result<usize, DecodeError> {
        self.r.count(field, min, max)
    }
}

/// A decoded payload: the common header and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The format version (the ledger's).
    pub version: Version,
    /// The ledger this act belongs to.
    pub ledger_id: Hash,
    /// Chosen by the author; makes otherwise identical acts distinct.
    pub nonce: u64,
    /// What the act says.
    pub body: Body,
}

/// Offset of the body within payload bytes: magic, version, ledger id,
/// kind, nonce.
pub const PAYLOAD_HEADER_BYTES: usize = 8 + 2 + 32 + 1 + 8;

impl Payload {
    /// The canonical bytes an author signs.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(PAYLOAD_MAGIC).u16(self.version.number()).raw(&self.ledger_id).u8(self.body.kind() as u8).u64(self.nonce);
        self.body.encode_into(&mut w);
        w.finish()
    }

    /// Decodes payload bytes of any known version, refusing anything
    /// non-canonical. Whether the version is the ledger's is the caller's
    /// check ([`Payload::decode_as`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_range("payload", bytes.len() as u64, PAYLOAD_HEADER_BYTES as u64, PAYLOAD_BYTES_MAX_V1 as u64)?;
        let mut r = Reader::new(bytes);
        if r.take(8, "payload.magic")? != PAYLOAD_MAGIC {
            return Err(DecodeError::BadMagic { field: "payload.magic" });
        }
        let number = r.u16("payload.version")?;
        let version = Version::from_u16(number)
            .ok_or(DecodeError::UnknownTag { field: "payload.version", value: number.into() })?;
        check_range("payload", bytes.len() as u64, PAYLOAD_HEADER_BYTES as u64, version.payload_bytes_max() as u64)?;
        let ledger_id = r.array("payload.ledger_id")?;
        let tag = r.u8("payload.kind")?;
        let kind =
            EventKind::from_tag(tag).ok_or(DecodeError::UnknownTag { field: "payload.kind", value: tag.into() })?;
        let nonce = r.u64("payload.nonce")?;
        let body = Body::decode(kind, version, &mut r)?;
        r.end()?;
        Ok(Self { version, ledger_id, nonce, body })
    }

    /// Decodes payload bytes that must be of `version` (the ledger's).
    pub fn decode_as(bytes: &[u8], version: Version) -> Result<Self, DecodeError> {
        let payload = Self::decode(bytes)?;
        if payload.version != version {
            return Err(DecodeError::WrongVersion {
                field: "payload.version",
                found: payload.version.number(),
                expected: version.number(),
            });
        }
        Ok(payload)
    }
}

/// The content hash of a petition or referendum text: SHA-256 over the
/// domain tag `dauys/content/v1`, a zero byte, and the body bytes of the
/// filing or calling payload (everything after the payload header).
/// Admissions name texts by this hash.
pub fn content_hash(payload_bytes: &[u8]) -> Hash {
    use sha2::{Digest, Sha256};
    let body = payload_bytes.get(PAYLOAD_HEADER_BYTES..).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(b"dauys/content/v1\0");
    hasher.update(body);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Payload {
        Payload {
            version: Version::V1,
            ledger_id: [7; 32],
            nonce: 3,
            body: Body::ReferendumCalled {
                petition: [1; 32],
                subject: "roads".into(),
                question: "Жол салынсын ба?".into(),
                options: vec!["Иә".into(), "Жоқ".into()],
                opens_at_ms: 10,
                closes_at_ms: 20,
                trustees: None,
            },
        }
    }

    #[test]
    fn payload_round_trips() {
        let payload = sample();
        assert_eq!(Payload::decode(&payload.encode()), Ok(payload));
        let v2 = Payload { version: Version::V2, ..sample() };
        assert_eq!(Payload::decode_as(&v2.encode(), Version::V2), Ok(v2.clone()));
        assert!(matches!(Payload::decode_as(&v2.encode(), Version::V1), Err(DecodeError::WrongVersion { .. })));
    }

    #[test]
    fn format_2_strings_refuse_control_characters() {
        let with = |question: &str, version| Payload {
            version,
            body: Body::ReferendumCalled {
                petition: [1; 32],
                subject: "roads".into(),
                question: question.into(),
                options: vec!["Yes".into(), "No".into()],
                opens_at_ms: 10,
                closes_at_ms: 20,
                trustees: None,
            },
            ..sample()
        };
        let nul = with("Roads?\u{0}", Version::V2).encode();
        assert_eq!(Payload::decode(&nul), Err(DecodeError::ControlCharacter { field: "question" }));
        assert!(Payload::decode(&with("Roads?\u{0}", Version::V1).encode()).is_ok());
        assert!(Payload::decode(&with("Line one\nline two", Version::V2).encode()).is_ok());
        assert!(Payload::decode(&with("Tab\there", Version::V2).encode()).is_err());
        assert!(Payload::decode(&with("C1 \u{85}", Version::V2).encode()).is_err());
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Payload::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn unknown_kind_and_version_are_refused() {
        let mut bytes = sample().encode();
        bytes[8 + 2 + 32] = 99;
        assert_eq!(Payload::decode(&bytes), Err(DecodeError::UnknownTag { field: "payload.kind", value: 99 }));
        let mut bytes = sample().encode();
        bytes[9] = 4;
        assert_eq!(Payload::decode(&bytes), Err(DecodeError::UnknownTag { field: "payload.version", value: 4 }));
        // Format 3's kinds do not exist in formats 1 and 2.
        let mut bytes = sample().encode();
        bytes[8 + 2 + 32] = EventKind::TrusteeCommitted as u8;
        assert_eq!(Payload::decode(&bytes), Err(DecodeError::UnknownTag { field: "payload.kind", value: 13 }));
    }

    #[test]
    fn format_3_calls_name_trustees_and_open_ballots_are_format_1_and_2_only() {
        let call = |version, trustees| Payload {
            version,
            body: Body::ReferendumCalled {
                petition: [1; 32],
                subject: "roads".into(),
                question: "Roads?".into(),
                options: vec!["Yes".into(), "No".into()],
                opens_at_ms: 10,
                closes_at_ms: 20,
                trustees,
            },
            ..sample()
        };
        let trustees = Some(Trustees { keys: vec![[5; 32], [6; 32], [7; 32]], threshold: 2 });
        let v3 = call(Version::V3, trustees.clone());
        assert_eq!(Payload::decode(&v3.encode()), Ok(v3));
        // Without trustees a format 3 call is cut short.
        assert!(Payload::decode(&call(Version::V3, None).encode()).is_err());
        // Thresholds of 1, or above the trustees, and a single trustee.
        for (keys, threshold) in [(3, 1), (3, 4), (1, 1)] {
            let t = Some(Trustees { keys: vec![[5; 32]; keys], threshold });
            assert!(Payload::decode(&call(Version::V3, t).encode()).is_err(), "{keys} trustees, threshold {threshold}");
        }
        let open = |version| Payload {
            version,
            body: Body::BallotCast { referendum: [1; 32], ballot: Ballot::Open { choice: 0 } },
            ..sample()
        };
        assert!(Payload::decode(&open(Version::V2).encode()).is_ok());
        assert_eq!(
            Payload::decode(&open(Version::V3).encode()),
            Err(DecodeError::UnknownTag { field: "ballot.version", value: 1 })
        );
    }
}
