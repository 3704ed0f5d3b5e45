//! The rule state machine: one function decides each candidate event
//! against the current state, and either changes the state or returns a
//! precise [`Rejection`] and changes nothing.
//!
//! Every check in [`Ledger::apply`] runs before the first mutation, so a
//! rejected act leaves the state exactly as it was. Time enters only as the
//! entry's node time: this module has no clock.
//!
//! What citizens read (petitions, referendums, districts) is kept in
//! persistent collections, so [`Ledger::view`] hands out a consistent
//! snapshot in constant time: the node publishes one after every batch and
//! serves reads from it without ever taking the writer's state.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use elastic_elgamal::group::Ristretto;
use elastic_elgamal::Ciphertext;

use crate::ceremony::{Ceremony, CeremonyStatus, Dealt};
use crate::crypto::check_key;
use crate::event::{content_hash, Ballot, Body, Decision, EventKind, LedgerOpened, Outcome, Payload, Rules, Version};
use crate::hexser::Hex;
use crate::limits::{DISTRICTS_MAX, PETITIONS_MAX, REFERENDUMS_MAX, VOTERS_MAX};
use crate::rejection::{hex32, key, GenesisError, Rejection, Role};
use crate::screen::Screen;
use crate::secret::{BallotContext, ElectionKey, PreChecked};
use crate::{entry::sha256, Hash, PublicKey};

/// Subjects every ledger must declare excluded.
pub const REQUIRED_EXCLUSIONS: [&str; 3] = ["budget", "staffing", "internal-organisation"];

/// What the rules need to know about the entry an act arrives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The entry's position.
    pub position: u64,
    /// The entry's node time.
    pub time_ms: u64,
    /// The entry's hash: the id of a petition or referendum it creates.
    pub entry_hash: Hash,
    /// The author key.
    pub author: PublicKey,
}

/// A council ruling on record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ruling {
    /// Accept or reject.
    pub decision: Decision,
    /// The council's reasons.
    pub reasons: String,
    /// Position of the ruling entry.
    pub position: u64,
    /// Node time of the ruling.
    pub time_ms: u64,
}

/// A petition's status at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PetitionStatus {
    /// Within the signing period, short of the threshold.
    Collecting,
    /// The signing period ended short of the threshold.
    Lapsed,
    /// Withdrawn by the initiator.
    Withdrawn,
    /// Threshold reached; the council's response period is running.
    AwaitingRuling,
    /// Threshold reached; the council did not rule in time.
    RulingOverdue,
    /// The council accepted it.
    Accepted,
    /// The council rejected it; no referendum called yet.
    Rejected,
    /// A referendum on it is called (and perhaps declared).
    InReferendum,
}

impl PetitionStatus {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        use PetitionStatus::*;
        match self {
            Collecting => "collecting",
            Lapsed => "lapsed",
            Withdrawn => "withdrawn",
            AwaitingRuling => "awaiting_ruling",
            RulingOverdue => "ruling_overdue",
            Accepted => "accepted",
            Rejected => "rejected",
            InReferendum => "in_referendum",
        }
    }
}

/// A petition and its counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Petition {
    /// Id: the hash of the filing entry.
    #[serde(with = "crate::hexser")]
    pub id: Hash,
    /// Position of the filing entry.
    pub position: u64,
    /// Node time of filing.
    pub filed_at_ms: u64,
    /// The initiator's key.
    #[serde(with = "crate::hexser")]
    pub initiator: PublicKey,
    /// Declared subject.
    pub subject: String,
    /// Title.
    pub title: String,
    /// Full text (shared, not copied, when the state is).
    #[serde(serialize_with = "serialize_shared_str")]
    pub text: std::sync::Arc<str>,
    /// Supports needed, fixed at filing.
    pub threshold: u64,
    /// End of the signing period (exclusive).
    pub signing_deadline_ms: u64,
    /// Supports by enrolled voters in the ledger.
    pub supports_online: u64,
    /// Supports recorded from paper sheets by the commission.
    pub supports_paper: u64,
    /// When supports first reached the threshold.
    pub qualified_at_ms: Option<u64>,
    /// When the initiator withdrew it.
    pub withdrawn_at_ms: Option<u64>,
    /// The council's ruling.
    pub ruling: Option<Ruling>,
    /// The referendum called on it.
    #[serde(serialize_with = "serialize_opt_hash")]
    pub referendum: Option<Hash>,
    /// Whether it was filed under a commission admission.
    pub admitted: bool,
}

fn serialize_shared_str<S: serde::Serializer>(value: &std::sync::Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value)
}

fn serialize_opt_hash<S: serde::Serializer>(value: &Option<Hash>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(hash) => s.serialize_some(&hex::encode(hash)),
        None => s.serialize_none(),
    }
}

impl Petition {
    /// All supports, online and on paper.
    pub fn supports(&self) -> u64 {
        self.supports_online.saturating_add(self.supports_paper)
    }

    /// End of the council's response period, once qualified.
    pub fn ruling_deadline_ms(&self, rules: &Rules) -> Option<u64> {
        self.qualified_at_ms.map(|at| at.saturating_add(rules.council_response_period_ms))
    }

    /// Whether a support (online or on paper) at node time `now_ms` passes
    /// the signing rules: not withdrawn, ruled on or put to a referendum,
    /// not (format 2) past its ruling deadline, and within the signing
    /// period. A qualified petition awaiting its ruling still takes them.
    pub fn takes_supports(&self, rules: &Rules, version: Version, now_ms: u64) -> Result<(), Rejection> {
        let status = self.status(rules, now_ms);
        let closed = self.withdrawn_at_ms.is_some()
            || self.ruling.is_some()
            || self.referendum.is_some()
            || (version >= Version::V2 && status == PetitionStatus::RulingOverdue);
        if closed {
            return Err(Rejection::PetitionNotCollecting { petition: hex32(&self.id), status: status.name() });
        }
        if now_ms >= self.signing_deadline_ms {
            return Err(Rejection::OutsideSigningPeriod {
                petition: hex32(&self.id),
                deadline_ms: self.signing_deadline_ms,
                time_ms: now_ms,
            });
        }
        Ok(())
    }

    /// The status at node time `now_ms`.
    pub fn status(&self, rules: &Rules, now_ms: u64) -> PetitionStatus {
        if self.referendum.is_some() {
            return PetitionStatus::InReferendum;
        }
        if let Some(ruling) = &self.ruling {
            return match ruling.decision {
                Decision::Accept => PetitionStatus::Accepted,
                Decision::Reject => PetitionStatus::Rejected,
            };
        }
        if self.withdrawn_at_ms.is_some() {
            return PetitionStatus::Withdrawn;
        }
        match self.ruling_deadline_ms(rules) {
            Some(deadline) if now_ms >= deadline => PetitionStatus::RulingOverdue,
            Some(_) => PetitionStatus::AwaitingRuling,
            None if now_ms >= self.signing_deadline_ms => PetitionStatus::Lapsed,
            None => PetitionStatus::Collecting,
        }
    }
}

/// A referendum and its tally.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Referendum {
    /// Id: the hash of the calling entry.
    #[serde(with = "crate::hexser")]
    pub id: Hash,
    /// Position of the calling entry.
    pub position: u64,
    /// The petition it decides.
    #[serde(with = "crate::hexser")]
    pub petition: Hash,
    /// Declared subject.
    pub subject: String,
    /// The question.
    pub question: String,
    /// The options; the first is the proposal.
    pub options: Vec<String>,
    /// Voting opens.
    pub opens_at_ms: u64,
    /// Voting closes (exclusive).
    pub closes_at_ms: u64,
    /// Enrolled voters when it was called: the base of the electorate share.
    pub electorate: u64,
    /// Ballots per option.
    pub tally: Vec<u64>,
    /// The declared outcome, once declared.
    pub declared: Option<Outcome>,
    /// Position of the declaration.
    pub declared_at_position: Option<u64>,
    /// Format 3: the trustees, the ceremony and the encrypted count. The
    /// tally above stays zero until the declaration, which sets it to the
    /// decrypted counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretFacts>,
}

impl Referendum {
    /// All valid ballots: in a secret referendum, the ballots counted (one
    /// per voter, re-votes superseding earlier ballots).
    pub fn ballots(&self) -> u64 {
        match &self.secret {
            Some(secret) => secret.ballots_counted,
            None => self.tally.iter().fold(0u64, |sum, count| sum.saturating_add(*count)),
        }
    }
}

/// Format 3: what citizens read of a secret referendum's ceremony and count.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretFacts {
    /// The trustees' keys, in index order.
    pub trustees: Vec<Hex<32>>,
    /// Shares needed to decrypt.
    pub threshold: u8,
    /// Where the key ceremony stands.
    pub ceremony: CeremonyStatus,
    /// Per trustee, the ceremony steps taken: 0 none, 1 committed, 2 dealt,
    /// 3 shares sent.
    pub steps: Vec<u8>,
    /// The trustee an upheld complaint showed to have sent a bad share.
    pub failed_accused: Option<u8>,
    /// The derived election key, once the ceremony is complete.
    pub election_key: Option<Hex<32>>,
    /// Ballots counted: one per voter.
    pub ballots_counted: u64,
    /// Ballots superseded by a later ballot of the same voter.
    pub ballots_superseded: u64,
    /// Trustees whose decryption shares are on the log, in log order.
    pub decryption_shares: Vec<u8>,
}

impl SecretFacts {
    fn of(ceremony: &Ceremony) -> Self {
        let (counted, superseded) = ceremony.ballot_counts();
        let steps = (0..ceremony.trustees().len())
            .map(|i| {
                if ceremony.sent_by(i).is_some() {
                    3
                } else if ceremony.dealt_by(i).is_some() {
                    2
                } else {
                    u8::from(ceremony.commitment_of(i).is_some())
                }
            })
            .collect();
        SecretFacts {
            trustees: ceremony.trustees().iter().map(|k| Hex(*k)).collect(),
            threshold: u8::try_from(ceremony.threshold()).unwrap_or(u8::MAX),
            ceremony: ceremony.status(),
            steps,
            failed_accused: ceremony.failure().map(|(accused, _)| accused),
            election_key: ceremony.election_key().map(|k| Hex(k.0)),
            ballots_counted: counted,
            ballots_superseded: superseded,
            decryption_shares: ceremony.shared_by().into_iter().map(|i| u8::try_from(i).unwrap_or(u8::MAX)).collect(),
        }
    }
}

/// The outcome of a tally under the published quorum rule: the proposal
/// (option 0) must win strictly more than `approval_share_bp` of the valid
/// ballots and at least `yes_share_of_electorate_bp` of the electorate.
pub fn outcome(rules: &Rules, tally: &[u64], electorate: u64) -> Outcome {
    let yes = u128::from(tally.first().copied().unwrap_or(0));
    let valid: u128 = tally.iter().map(|count| u128::from(*count)).sum();
    let approval = yes * 10_000 > u128::from(rules.approval_share_bp) * valid;
    let turnout = yes * 10_000 >= u128::from(rules.yes_share_of_electorate_bp) * u128::from(electorate);
    if approval && turnout {
        Outcome::Approved
    } else {
        Outcome::NotApproved
    }
}

/// The supports a petition needs, fixed at filing: the larger of the
/// absolute minimum and the share of enrolled voters, rounded up.
pub fn threshold(rules: &Rules, enrolled: u64) -> u64 {
    let share = (u128::from(enrolled) * u128::from(rules.threshold_share_bp)).div_ceil(10_000);
    rules.threshold_supports_min.max(u64::try_from(share).unwrap_or(u64::MAX))
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Voter {
    district: u32,
    enrolled: bool,
    /// Position of the enrolment that made the voter currently enrolled.
    enrolled_at: u64,
    /// Format 2: nonce of the voter's last accepted act.
    last_nonce: Option<u64>,
}

/// Counts for one district.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct District {
    /// The label ("" for voters enrolled without one).
    pub name: String,
    /// Voters enrolled now.
    pub enrolled: u64,
    /// Online supports by its voters, counted in the district the voter was
    /// enrolled in when supporting.
    pub supports: u64,
    /// Ballots cast by its voters, counted likewise.
    pub ballots: u64,
}

/// What citizens and observers read of a ledger, as of one entry: cheap to
/// clone (persistent collections share their unchanged parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerView {
    version: Version,
    ledger_id: Hash,
    genesis: Arc<LedgerOpened>,
    enrolled: u64,
    time_ms: u64,
    districts: imbl::Vector<District>,
    petition_index: imbl::HashMap<Hash, u32>,
    petitions: imbl::Vector<Petition>,
    referendum_index: imbl::HashMap<Hash, u32>,
    referendums: imbl::Vector<Referendum>,
}

impl LedgerView {
    /// The ledger's format version.
    pub fn version(&self) -> Version {
        self.version
    }
    /// The ledger id.
    pub fn ledger_id(&self) -> &Hash {
        &self.ledger_id
    }
    /// The genesis: jurisdiction, keys and rules.
    pub fn genesis(&self) -> &LedgerOpened {
        &self.genesis
    }
    /// The published rules.
    pub fn rules(&self) -> &Rules {
        &self.genesis.rules
    }
    /// Node time of the last applied entry.
    pub fn time_ms(&self) -> u64 {
        self.time_ms
    }
    /// Voters enrolled now.
    pub fn enrolled(&self) -> u64 {
        self.enrolled
    }
    /// Petitions in filing order.
    pub fn petitions(&self) -> &imbl::Vector<Petition> {
        &self.petitions
    }
    /// A petition by id.
    pub fn petition(&self, id: &Hash) -> Option<&Petition> {
        self.petition_index.get(id).and_then(|&i| self.petitions.get(i as usize))
    }
    /// Referendums in calling order.
    pub fn referendums(&self) -> &imbl::Vector<Referendum> {
        &self.referendums
    }
    /// A referendum by id.
    pub fn referendum(&self, id: &Hash) -> Option<&Referendum> {
        self.referendum_index.get(id).and_then(|&i| self.referendums.get(i as usize))
    }
    /// Format 3: the election key and option count a ballot for this
    /// referendum is proven against, once its ceremony is complete: what a
    /// node or verifier needs to check ballot proofs off the writer's path.
    pub fn ballot_key(&self, referendum: &Hash) -> Option<(ElectionKey, usize)> {
        let record = self.referendum(referendum)?;
        let key = record.secret.as_ref()?.election_key?;
        Some((ElectionKey(key.0), record.options.len()))
    }
    /// Districts in order of first enrolment.
    pub fn districts(&self) -> &imbl::Vector<District> {
        &self.districts
    }
    /// Format 3: checks the proofs of a secret ballot by `author` against
    /// this view's election key, off the writer's path. `None` when the act
    /// is no secret ballot, its referendum has no key yet, or a proof fails:
    /// the rules then check (and refuse) it themselves.
    pub fn check_ballot(&self, author: &PublicKey, payload: &Payload) -> Option<Vec<Ciphertext<Ristretto>>> {
        crate::secret::check_payload(&self.ledger_id, author, payload, |r| self.ballot_key(r))?.ok()
    }
}

/// The state of one ledger: everything a verifier needs to judge the next
/// act, and everything a citizen wants to see.
///
/// Memory grows with voters, petitions, referendums and the (petition,
/// voter) and (referendum, voter) pairs that refuse repeats. A format 1
/// ledger also keeps one hash per entry for its duplicate-payload rule;
/// format 2 replaced that rule with per-author nonces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    view: LedgerView,
    screen: Arc<Screen>,
    voter_index: HashMap<PublicKey, u32>,
    voters: Vec<Voter>,
    district_index: HashMap<String, u32>,
    supports: HashSet<u64>,
    ballots: HashSet<u64>,
    admissions: HashSet<Hash>,
    /// Format 1: payload hash → position of every accepted entry.
    payloads: HashMap<Hash, u64>,
    /// Format 2: nonce of the commission's and the council's last act.
    commission_nonce: Option<u64>,
    council_nonce: Option<u64>,
    /// Format 3: each secret referendum's ceremony and encrypted count.
    ceremonies: HashMap<u32, Ceremony>,
    /// Format 3: nonce of each trustee's last act (trustees who are not
    /// also the commission, the council or an enrolled voter).
    trustee_nonces: HashMap<PublicKey, Option<u64>>,
}

fn pair(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

fn index(n: usize) -> u32 {
    // Collections are bounded by the limits in `crate::limits`, all below u32::MAX.
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A format 2 checkpoint origin: printable ASCII without spaces or `+`
/// (the C2SP signed-note key name rules).
fn origin_is_valid(origin: &str) -> bool {
    !origin.is_empty() && origin.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'+')
}

fn check_genesis(ctx: &Context, version: Version, genesis: &LedgerOpened) -> Result<Screen, GenesisError> {
    if ctx.author != genesis.commission_key {
        return Err(GenesisError::NotByCommission);
    }
    for (role, key) in
        [("commission", &genesis.commission_key), ("log", &genesis.log_key), ("council", &genesis.council_key)]
    {
        check_key(key).map_err(|problem| GenesisError::WeakRoleKey { role, problem })?;
    }
    if genesis.commission_key == genesis.log_key
        || genesis.commission_key == genesis.council_key
        || genesis.log_key == genesis.council_key
    {
        return Err(GenesisError::SharedRoleKeys);
    }
    let rules = &genesis.rules;
    let bad = |rule, problem| Err(GenesisError::BadRule { rule, problem });
    if let Some(origin) = &genesis.origin {
        if !origin_is_valid(origin) {
            return bad("origin", "must be printable ASCII without spaces or `+`");
        }
    }
    if rules.signing_period_ms == 0 {
        return bad("signing_period_ms", "must be positive");
    }
    if rules.council_response_period_ms == 0 {
        return bad("council_response_period_ms", "must be positive");
    }
    if rules.referendum_window_min_ms == 0 || rules.referendum_window_min_ms > rules.referendum_window_max_ms {
        return bad("referendum_window_min_ms", "must be positive and at most referendum_window_max_ms");
    }
    for (rule, value) in [
        ("threshold_share_bp", rules.threshold_share_bp),
        ("approval_share_bp", rules.approval_share_bp),
        ("yes_share_of_electorate_bp", rules.yes_share_of_electorate_bp),
    ] {
        if value > 10_000 {
            return bad(rule, "a share cannot exceed 10000 basis points");
        }
    }
    if rules.threshold_supports_min == 0 && rules.threshold_share_bp == 0 {
        return bad("threshold_supports_min", "a threshold (absolute or share) is required");
    }
    let mut seen = HashSet::new();
    for subject in &rules.subjects {
        let well_formed = subject.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed || !seen.insert(subject.id.as_str()) {
            return Err(GenesisError::BadSubject { subject: subject.id.clone() });
        }
        if let (false, Some(term)) = (subject.excluded, subject.terms.first()) {
            return Err(GenesisError::BadTerm { term: term.clone() });
        }
    }
    for required in REQUIRED_EXCLUSIONS {
        if !rules.subjects.iter().any(|s| s.id == required && s.excluded) {
            return Err(GenesisError::MissingExclusion { subject: required });
        }
    }
    Screen::compile(version, &rules.subjects).map_err(|term| GenesisError::BadTerm { term })
}

/// Whose nonce an act advances (format 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NonceHolder {
    Commission,
    Council,
    Voter(u32),
    Trustee,
}

impl Ledger {
    /// Opens a ledger from its genesis act at position 0. The ledger's
    /// format is the payload's version.
    pub fn open(ctx: &Context, payload: &Payload, payload_bytes: &[u8]) -> Result<Self, Rejection> {
        let Body::LedgerOpened(genesis) = &payload.body else {
            return Err(Rejection::BadGenesis(GenesisError::NotGenesis { found: payload.body.kind() }));
        };
        let version = payload.version;
        if genesis.origin.is_some() != (version >= Version::V2) {
            // The decoder reads an origin exactly in format 2; a value built
            // in memory must agree with it.
            return Err(Rejection::BadGenesis(GenesisError::BadRule {
                rule: "origin",
                problem: "required in format 2 and absent in format 1",
            }));
        }
        let screen = check_genesis(ctx, version, genesis).map_err(Rejection::BadGenesis)?;
        let mut payloads = HashMap::new();
        let mut commission_nonce = None;
        match version {
            Version::V1 => {
                payloads.insert(sha256(payload_bytes), ctx.position);
            }
            Version::V2 | Version::V3 => commission_nonce = Some(payload.nonce),
        }
        Ok(Self {
            view: LedgerView {
                version,
                ledger_id: payload.ledger_id,
                genesis: Arc::new(genesis.clone()),
                enrolled: 0,
                time_ms: ctx.time_ms,
                districts: imbl::Vector::new(),
                petition_index: imbl::HashMap::new(),
                petitions: imbl::Vector::new(),
                referendum_index: imbl::HashMap::new(),
                referendums: imbl::Vector::new(),
            },
            screen: Arc::new(screen),
            voter_index: HashMap::new(),
            voters: Vec::new(),
            district_index: HashMap::new(),
            supports: HashSet::new(),
            ballots: HashSet::new(),
            admissions: HashSet::new(),
            payloads,
            commission_nonce,
            council_nonce: None,
            ceremonies: HashMap::new(),
            trustee_nonces: HashMap::new(),
        })
    }

    /// A snapshot of what citizens read, in constant time.
    pub fn view(&self) -> LedgerView {
        self.view.clone()
    }
    /// The ledger's format version.
    pub fn version(&self) -> Version {
        self.view.version
    }
    /// The ledger id.
    pub fn ledger_id(&self) -> &Hash {
        &self.view.ledger_id
    }
    /// The genesis: jurisdiction, keys and rules.
    pub fn genesis(&self) -> &LedgerOpened {
        &self.view.genesis
    }
    /// The published rules.
    pub fn rules(&self) -> &Rules {
        &self.view.genesis.rules
    }
    /// Node time of the last applied entry.
    pub fn time_ms(&self) -> u64 {
        self.view.time_ms
    }
    /// Voters enrolled now.
    pub fn enrolled(&self) -> u64 {
        self.view.enrolled
    }
    /// Petitions in filing order.
    pub fn petitions(&self) -> &imbl::Vector<Petition> {
        &self.view.petitions
    }
    /// A petition by id.
    pub fn petition(&self, id: &Hash) -> Option<&Petition> {
        self.view.petition(id)
    }
    /// Referendums in calling order.
    pub fn referendums(&self) -> &imbl::Vector<Referendum> {
        &self.view.referendums
    }
    /// A referendum by id.
    pub fn referendum(&self, id: &Hash) -> Option<&Referendum> {
        self.view.referendum(id)
    }
    /// Districts in order of first enrolment.
    pub fn districts(&self) -> &imbl::Vector<District> {
        &self.view.districts
    }
    /// Whether `key` is an enrolled voter now: its district's label and the
    /// position of the enrolment that made it one.
    pub fn enrolment(&self, key: &PublicKey) -> Option<(&str, u64)> {
        let voter = &self.voters[self.voter(key)? as usize];
        let district = self.view.districts.get(voter.district as usize)?;
        Some((district.name.as_str(), voter.enrolled_at))
    }

    /// Format 2: the nonce of `author`'s last accepted act, if any.
    pub fn last_nonce(&self, author: &PublicKey) -> Option<u64> {
        match self.nonce_holder(author)? {
            NonceHolder::Commission => self.commission_nonce,
            NonceHolder::Council => self.council_nonce,
            NonceHolder::Voter(i) => self.voters[i as usize].last_nonce,
            NonceHolder::Trustee => self.trustee_nonces.get(author).copied().flatten(),
        }
    }

    /// Format 3: a secret referendum's ceremony and encrypted count.
    pub fn ceremony(&self, referendum: &Hash) -> Option<&Ceremony> {
        let r = self.view.referendum_index.get(referendum)?;
        self.ceremonies.get(r)
    }

    fn nonce_holder(&self, author: &PublicKey) -> Option<NonceHolder> {
        let genesis = &self.view.genesis;
        if *author == genesis.commission_key {
            Some(NonceHolder::Commission)
        } else if *author == genesis.council_key {
            Some(NonceHolder::Council)
        } else if let Some(&i) = self.voter_index.get(author) {
            Some(NonceHolder::Voter(i))
        } else {
            self.trustee_nonces.contains_key(author).then_some(NonceHolder::Trustee)
        }
    }

    fn voter(&self, key: &PublicKey) -> Option<u32> {
        self.voter_index.get(key).copied().filter(|&i| self.voters[i as usize].enrolled)
    }

    fn petition_mut(&mut self, p: u32) -> &mut Petition {
        self.view.petitions.get_mut(p as usize).expect("petition indexes come from the index")
    }

    fn petition_at(&self, p: u32) -> &Petition {
        self.view.petitions.get(p as usize).expect("petition indexes come from the index")
    }

    fn referendum_at(&self, r: u32) -> &Referendum {
        self.view.referendums.get(r as usize).expect("referendum indexes come from the index")
    }

    fn district_mut(&mut self, d: u32) -> &mut District {
        self.view.districts.get_mut(d as usize).expect("district indexes come from the index")
    }

    fn require(&self, ctx: &Context, kind: EventKind, role: Role) -> Result<(), Rejection> {
        let genesis = &self.view.genesis;
        let required = match role {
            Role::Commission => genesis.commission_key,
            Role::Council => genesis.council_key,
            Role::Voter | Role::Initiator => unreachable!("voters are checked by enrolment"),
        };
        if ctx.author == required {
            Ok(())
        } else {
            Err(Rejection::WrongRole { kind, required: role })
        }
    }

    fn require_voter(&self, ctx: &Context) -> Result<u32, Rejection> {
        self.voter(&ctx.author).ok_or(Rejection::NotEnrolled { key: key(&ctx.author) })
    }

    fn petition_index_of(&self, id: &Hash) -> Result<u32, Rejection> {
        self.view.petition_index.get(id).copied().ok_or(Rejection::UnknownPetition { petition: hex32(id) })
    }

    fn referendum_index_of(&self, id: &Hash) -> Result<u32, Rejection> {
        self.view.referendum_index.get(id).copied().ok_or(Rejection::UnknownReferendum { referendum: hex32(id) })
    }

    fn check_subject(&self, subject: &str) -> Result<(), Rejection> {
        match self.rules().subjects.iter().find(|s| s.id == subject) {
            None => Err(Rejection::UnknownSubject { subject: subject.to_owned() }),
            Some(s) if s.excluded => Err(Rejection::ExcludedSubject { subject: subject.to_owned() }),
            Some(_) => Ok(()),
        }
    }

    /// The screen check; returns whether an admission is consumed.
    fn check_screen(&self, texts: &[&str], payload_bytes: &[u8]) -> Result<Option<Hash>, Rejection> {
        let Some(term) = self.screen.find(texts) else { return Ok(None) };
        let content = content_hash(payload_bytes);
        if self.admissions.contains(&content) {
            Ok(Some(content))
        } else {
            Err(Rejection::ScreenedText {
                subject: term.subject.clone(),
                term: term.term.clone(),
                content: hex32(&content),
            })
        }
    }

    /// Whether the published screen would refuse these texts, and for which
    /// subject and term: the check a client runs before sending.
    pub fn screen(&self, texts: &[&str]) -> Option<(String, String)> {
        self.screen.find(texts).map(|term| (term.subject.clone(), term.term.clone()))
    }

    /// Decides one act. On success the state reflects it; on rejection the
    /// state is unchanged.
    pub fn apply(&mut self, ctx: &Context, payload: &Payload, payload_bytes: &[u8]) -> Result<(), Rejection> {
        self.apply_checked(ctx, payload, payload_bytes, None)
    }

    /// [`Ledger::apply`] for a secret ballot whose proofs were already
    /// checked off this path, against [`LedgerView::ballot_key`] and the
    /// entry's author: `checked` is what [`crate::secret::SecretBallot::verify`]
    /// returned. Every other rule still runs here.
    pub fn apply_checked(
        &mut self,
        ctx: &Context,
        payload: &Payload,
        payload_bytes: &[u8],
        checked: Option<PreChecked<'_>>,
    ) -> Result<(), Rejection> {
        if payload.ledger_id != self.view.ledger_id {
            return Err(Rejection::WrongLedger {
                expected: hex32(&self.view.ledger_id),
                found: hex32(&payload.ledger_id),
            });
        }
        let version = self.view.version;
        let payload_hash = match version {
            Version::V1 => {
                let hash = sha256(payload_bytes);
                if let Some(&position) = self.payloads.get(&hash) {
                    return Err(Rejection::DuplicatePayload { position });
                }
                Some(hash)
            }
            Version::V2 | Version::V3 => {
                if let Some(last) = self.last_nonce(&ctx.author) {
                    if payload.nonce <= last {
                        return Err(Rejection::StaleNonce { nonce: payload.nonce, last });
                    }
                }
                None
            }
        };
        self.decide(ctx, payload, payload_bytes, checked)?;
        match payload_hash {
            Some(hash) => {
                self.payloads.insert(hash, ctx.position);
            }
            None => match self.nonce_holder(&ctx.author) {
                Some(NonceHolder::Commission) => self.commission_nonce = Some(payload.nonce),
                Some(NonceHolder::Council) => self.council_nonce = Some(payload.nonce),
                Some(NonceHolder::Voter(i)) => self.voters[i as usize].last_nonce = Some(payload.nonce),
                Some(NonceHolder::Trustee) => {
                    self.trustee_nonces.insert(ctx.author, Some(payload.nonce));
                }
                // Every act a format 2 ledger accepts after genesis is by
                // the commission, the council or an enrolled voter.
                None => debug_assert!(false, "an accepted act without a nonce holder"),
            },
        }
        self.view.time_ms = ctx.time_ms;
        Ok(())
    }

    /// The rules of each kind: checks first, then the mutation.
    fn decide(
        &mut self,
        ctx: &Context,
        payload: &Payload,
        payload_bytes: &[u8],
        checked: Option<PreChecked<'_>>,
    ) -> Result<(), Rejection> {
        let version = self.view.version;
        let kind = payload.body.kind();
        let now = ctx.time_ms;
        match &payload.body {
            Body::LedgerOpened(_) => return Err(Rejection::GenesisRepeated),
            Body::VotersEnrolled { district, keys } => {
                self.require(ctx, kind, Role::Commission)?;
                let mut batch = HashSet::with_capacity(keys.len());
                for voter_key in keys {
                    check_key(voter_key).map_err(|problem| Rejection::WeakVoterKey { key: key(voter_key), problem })?;
                    let g = &self.view.genesis;
                    if [g.commission_key, g.council_key, g.log_key].contains(voter_key) {
                        return Err(Rejection::RoleKeyAsVoter { key: key(voter_key) });
                    }
                    if self.voter(voter_key).is_some() || !batch.insert(*voter_key) {
                        return Err(Rejection::AlreadyEnrolled { key: key(voter_key) });
                    }
                }
                let new_voters = keys.iter().filter(|k| !self.voter_index.contains_key(*k)).count() as u64;
                if self.voters.len() as u64 + new_voters > VOTERS_MAX {
                    return Err(Rejection::LimitExceeded { what: "voters" });
                }
                let district_index = match self.district_index.get(district) {
                    Some(&i) => i,
                    None if self.view.districts.len() >= DISTRICTS_MAX => {
                        return Err(Rejection::LimitExceeded { what: "districts" })
                    }
                    None => {
                        let i = index(self.view.districts.len());
                        self.view.districts.push_back(District { name: district.clone(), ..District::default() });
                        self.district_index.insert(district.clone(), i);
                        i
                    }
                };
                for voter_key in keys {
                    match self.voter_index.get(voter_key) {
                        Some(&i) => {
                            let voter = &mut self.voters[i as usize];
                            voter.district = district_index;
                            voter.enrolled = true;
                            voter.enrolled_at = ctx.position;
                        }
                        None => {
                            self.voter_index.insert(*voter_key, index(self.voters.len()));
                            // Format 3: one nonce record per key: a trustee
                            // enrolled later keeps its record.
                            let last_nonce = self.trustee_nonces.remove(voter_key).flatten();
                            self.voters.push(Voter {
                                district: district_index,
                                enrolled: true,
                                enrolled_at: ctx.position,
                                last_nonce,
                            });
                        }
                    }
                }
                self.view.enrolled += keys.len() as u64;
                self.district_mut(district_index).enrolled += keys.len() as u64;
            }
            Body::VoterRemoved { key: voter_key, .. } => {
                self.require(ctx, kind, Role::Commission)?;
                let i = self.voter(voter_key).ok_or(Rejection::NotEnrolled { key: key(voter_key) })?;
                let voter = &mut self.voters[i as usize];
                voter.enrolled = false;
                let district = voter.district;
                self.view.enrolled -= 1;
                self.district_mut(district).enrolled -= 1;
            }
            Body::PetitionFiled { subject, title, text } => {
                self.require_voter(ctx)?;
                self.check_subject(subject)?;
                let admission = self.check_screen(&[title, text], payload_bytes)?;
                if self.view.petitions.len() as u64 >= PETITIONS_MAX {
                    return Err(Rejection::LimitExceeded { what: "petitions" });
                }
                if let Some(content) = admission {
                    self.admissions.remove(&content);
                }
                let rules = &self.view.genesis.rules;
                let petition = Petition {
                    id: ctx.entry_hash,
                    position: ctx.position,
                    filed_at_ms: now,
                    initiator: ctx.author,
                    subject: subject.clone(),
                    title: title.clone(),
                    text: text.as_str().into(),
                    threshold: threshold(rules, self.view.enrolled),
                    signing_deadline_ms: now.saturating_add(rules.signing_period_ms),
                    supports_online: 0,
                    supports_paper: 0,
                    qualified_at_ms: None,
                    withdrawn_at_ms: None,
                    ruling: None,
                    referendum: None,
                    admitted: admission.is_some(),
                };
                self.view.petition_index.insert(ctx.entry_hash, index(self.view.petitions.len()));
                self.view.petitions.push_back(petition);
            }
            Body::PetitionSupported { petition } => {
                let voter = self.require_voter(ctx)?;
                let p = self.petition_index_of(petition)?;
                self.check_collecting(p, now)?;
                if self.supports.contains(&pair(p, voter)) {
                    return Err(Rejection::DoubleSupport { petition: hex32(petition) });
                }
                self.supports.insert(pair(p, voter));
                let district = self.voters[voter as usize].district;
                self.district_mut(district).supports += 1;
                let petition = self.petition_mut(p);
                petition.supports_online += 1;
                qualify(petition, now);
            }
            Body::PaperSupportsRecorded { petition, count, .. } => {
                self.require(ctx, kind, Role::Commission)?;
                let p = self.petition_index_of(petition)?;
                self.check_collecting(p, now)?;
                let petition = self.petition_mut(p);
                petition.supports_paper = petition.supports_paper.saturating_add(*count);
                qualify(petition, now);
            }
            Body::PetitionWithdrawn { petition, .. } => {
                if version >= Version::V2 {
                    self.require_voter(ctx)?;
                }
                let p = self.petition_index_of(petition)?;
                let record = self.petition_at(p);
                if record.initiator != ctx.author {
                    return Err(Rejection::NotInitiator { petition: hex32(petition) });
                }
                let status = record.status(self.rules(), now);
                if !matches!(
                    status,
                    PetitionStatus::Collecting | PetitionStatus::AwaitingRuling | PetitionStatus::RulingOverdue
                ) {
                    return Err(Rejection::PetitionNotCollecting { petition: hex32(petition), status: status.name() });
                }
                self.petition_mut(p).withdrawn_at_ms = Some(now);
            }
            Body::ContentAdmitted { content, .. } => {
                self.require(ctx, kind, Role::Commission)?;
                if self.admissions.contains(content) {
                    return Err(Rejection::AdmissionExists { content: hex32(content) });
                }
                self.admissions.insert(*content);
            }
            Body::CouncilRuled { petition, decision, reasons } => {
                self.require(ctx, kind, Role::Council)?;
                let p = self.petition_index_of(petition)?;
                let rules = self.rules();
                let record = self.petition_at(p);
                match record.status(rules, now) {
                    PetitionStatus::AwaitingRuling => {}
                    PetitionStatus::Collecting | PetitionStatus::Lapsed => {
                        return Err(Rejection::RulingBeforeThreshold {
                            petition: hex32(petition),
                            supports: record.supports(),
                            threshold: record.threshold,
                        })
                    }
                    PetitionStatus::RulingOverdue => {
                        return Err(Rejection::RulingAfterDeadline {
                            petition: hex32(petition),
                            deadline_ms: record.ruling_deadline_ms(rules).unwrap_or(0),
                        })
                    }
                    status => {
                        return Err(Rejection::NotAwaitingRuling { petition: hex32(petition), status: status.name() })
                    }
                }
                self.petition_mut(p).ruling = Some(Ruling {
                    decision: *decision,
                    reasons: reasons.clone(),
                    position: ctx.position,
                    time_ms: now,
                });
            }
            Body::ReferendumCalled { petition, subject, question, options, opens_at_ms, closes_at_ms, trustees } => {
                self.require(ctx, kind, Role::Commission)?;
                let p = self.petition_index_of(petition)?;
                let rules = self.rules();
                let record = self.petition_at(p);
                let status = record.status(rules, now);
                // Format 3: a referendum whose ceremony failed, or never
                // completed before voting was to open, may be called again.
                let void = record.referendum.and_then(|r| self.view.referendum_index.get(&r)).is_some_and(|r| {
                    let called = self.referendum_at(*r);
                    self.ceremonies.get(r).is_some_and(|c| c.void_at(now, called.opens_at_ms))
                });
                let ruled = record.ruling.as_ref().is_some_and(|r| r.decision == Decision::Reject)
                    || record.ruling_deadline_ms(rules).is_some_and(|d| now >= d);
                if !(matches!(status, PetitionStatus::Rejected | PetitionStatus::RulingOverdue) || (void && ruled)) {
                    return Err(Rejection::ReferendumNotAllowed { petition: hex32(petition), status: status.name() });
                }
                self.check_subject(subject)?;
                let mut texts: Vec<&str> = vec![question];
                texts.extend(options.iter().map(String::as_str));
                let admission = self.check_screen(&texts, payload_bytes)?;
                let rules = self.rules();
                let window = closes_at_ms.checked_sub(*opens_at_ms);
                let window_ok =
                    window.is_some_and(|w| w >= rules.referendum_window_min_ms && w <= rules.referendum_window_max_ms);
                if *opens_at_ms < now || !window_ok {
                    return Err(Rejection::BadWindow {
                        opens_at_ms: *opens_at_ms,
                        closes_at_ms: *closes_at_ms,
                        time_ms: now,
                        min_ms: rules.referendum_window_min_ms,
                        max_ms: rules.referendum_window_max_ms,
                    });
                }
                // Format 3: the trustees, after the window and before the limit
                // (FORMAT.md section 15.2).
                let trustees = match (trustees, version >= Version::V3) {
                    (Some(t), true) => Some(self.check_trustees(t)?),
                    (None, false) => None,
                    _ => {
                        return Err(Rejection::BadTrustees {
                            problem: "a format 3 referendum names its trustees; formats 1 and 2 name none".to_owned(),
                        })
                    }
                };
                if self.view.referendums.len() as u64 >= REFERENDUMS_MAX {
                    return Err(Rejection::LimitExceeded { what: "referendums" });
                }
                if let Some(content) = admission {
                    self.admissions.remove(&content);
                }
                self.petition_mut(p).referendum = Some(ctx.entry_hash);
                let referendum = Referendum {
                    id: ctx.entry_hash,
                    position: ctx.position,
                    petition: *petition,
                    subject: subject.clone(),
                    question: question.clone(),
                    options: options.clone(),
                    opens_at_ms: *opens_at_ms,
                    closes_at_ms: *closes_at_ms,
                    electorate: self.view.enrolled,
                    tally: vec![0; options.len()],
                    declared: None,
                    declared_at_position: None,
                    secret: None,
                };
                let r = index(self.view.referendums.len());
                let mut referendum = referendum;
                if let Some(t) = trustees {
                    for trustee in &t.keys {
                        if self.nonce_holder(trustee).is_none() {
                            self.trustee_nonces.insert(*trustee, None);
                        }
                    }
                    let ceremony =
                        Ceremony::new(ctx.entry_hash, t.keys.clone(), usize::from(t.threshold), options.len());
                    referendum.secret = Some(SecretFacts::of(&ceremony));
                    self.ceremonies.insert(r, ceremony);
                }
                self.view.referendum_index.insert(ctx.entry_hash, r);
                self.view.referendums.push_back(referendum);
            }
            Body::BallotCast { referendum, ballot } => {
                let voter = self.require_voter(ctx)?;
                let r = self.referendum_index_of(referendum)?;
                let record = self.referendum_at(r);
                if version >= Version::V2 && self.voters[voter as usize].enrolled_at >= record.position {
                    return Err(Rejection::NotInElectorate {
                        referendum: hex32(referendum),
                        called_at_position: record.position,
                        enrolled_at_position: self.voters[voter as usize].enrolled_at,
                    });
                }
                if now < record.opens_at_ms || now >= record.closes_at_ms {
                    return Err(Rejection::BallotOutsideWindow {
                        referendum: hex32(referendum),
                        opens_at_ms: record.opens_at_ms,
                        closes_at_ms: record.closes_at_ms,
                        time_ms: now,
                    });
                }
                let choice = match (ballot, self.ceremonies.contains_key(&r)) {
                    (Ballot::Open { choice }, false) => choice,
                    (Ballot::Secret(ballot), true) => {
                        let ceremony = &self.ceremonies[&r];
                        let election_key = ceremony.ballot_key()?;
                        let invalid =
                            |problem: String| Rejection::InvalidBallot { referendum: hex32(referendum), problem };
                        let ciphertexts = match checked {
                            Some(PreChecked::Valid(ciphertexts)) => std::borrow::Cow::Borrowed(ciphertexts),
                            Some(PreChecked::Invalid(problem)) => return Err(invalid(problem.to_owned())),
                            None => std::borrow::Cow::Owned({
                                let context = BallotContext {
                                    ledger_id: &self.view.ledger_id,
                                    referendum,
                                    voter: &ctx.author,
                                    key: &election_key,
                                    options: record.options.len(),
                                };
                                ballot.verify(&context).map_err(|e| invalid(e.to_string()))?
                            }),
                        };
                        if ciphertexts.len() != record.options.len() {
                            return Err(invalid("the checked ballot has another number of options".to_owned()));
                        }
                        let first = !self.ceremonies[&r].has_ballot(voter);
                        let ceremony = self.ceremonies.get_mut(&r).expect("checked above");
                        ceremony.cast(voter, &ciphertexts);
                        let (counted, superseded) = ceremony.ballot_counts();
                        let record = self.view.referendums.get_mut(r as usize).expect("indexed");
                        if let Some(facts) = &mut record.secret {
                            facts.ballots_counted = counted;
                            facts.ballots_superseded = superseded;
                        }
                        if first {
                            let district = self.voters[voter as usize].district;
                            self.district_mut(district).ballots += 1;
                        }
                        return Ok(());
                    }
                    (Ballot::Open { .. }, true) => {
                        return Err(Rejection::InvalidBallot {
                            referendum: hex32(referendum),
                            problem: "a secret referendum takes secret ballots only".to_owned(),
                        })
                    }
                    (Ballot::Secret(_), false) => {
                        return Err(Rejection::InvalidBallot {
                            referendum: hex32(referendum),
                            problem: "an open referendum takes open ballots only".to_owned(),
                        })
                    }
                };
                if usize::from(*choice) >= record.options.len() {
                    return Err(Rejection::ChoiceOutOfRange {
                        referendum: hex32(referendum),
                        choice: *choice,
                        options: record.options.len() as u64,
                    });
                }
                if self.ballots.contains(&pair(r, voter)) {
                    return Err(Rejection::DoubleBallot { referendum: hex32(referendum) });
                }
                self.ballots.insert(pair(r, voter));
                self.view.referendums.get_mut(r as usize).expect("indexed").tally[usize::from(*choice)] += 1;
                let district = self.voters[voter as usize].district;
                self.district_mut(district).ballots += 1;
            }
            Body::ResultDeclared { referendum, tally, outcome: declared } => {
                self.require(ctx, kind, Role::Commission)?;
                let r = self.referendum_index_of(referendum)?;
                let record = self.referendum_at(r);
                if now < record.closes_at_ms {
                    return Err(Rejection::DeclaredTooEarly {
                        referendum: hex32(referendum),
                        closes_at_ms: record.closes_at_ms,
                    });
                }
                if record.declared.is_some() {
                    return Err(Rejection::AlreadyDeclared { referendum: hex32(referendum) });
                }
                match self.ceremonies.get(&r) {
                    Some(ceremony) => ceremony.check_declared(tally)?,
                    None if *tally != record.tally => {
                        return Err(Rejection::TallyMismatch {
                            referendum: hex32(referendum),
                            declared: tally.clone(),
                            computed: record.tally.clone(),
                        })
                    }
                    None => {}
                }
                let computed = outcome(self.rules(), tally, record.electorate);
                if *declared != computed {
                    return Err(Rejection::OutcomeMismatch {
                        referendum: hex32(referendum),
                        declared: *declared,
                        computed,
                    });
                }
                let record = self.view.referendums.get_mut(r as usize).expect("indexed");
                record.declared = Some(computed);
                record.declared_at_position = Some(ctx.position);
                record.tally.clone_from(tally);
            }
            Body::TrusteeCommitted { referendum, commitment, box_key } => {
                let r = self.ceremony_step(referendum, now)?;
                self.ceremonies.get_mut(&r).expect("checked").commit(&ctx.author, *commitment, *box_key)?;
                self.refresh_facts(r);
            }
            Body::TrusteeDealt { referendum, polynomial, proof, opening } => {
                let r = self.ceremony_step(referendum, now)?;
                let dealt = Dealt { polynomial: polynomial.clone(), proof: proof.clone(), opening: *opening };
                self.ceremonies.get_mut(&r).expect("checked").deal(&ctx.author, &dealt)?;
                self.refresh_facts(r);
            }
            Body::TrusteeSharesSent { referendum, shares } => {
                let r = self.ceremony_step(referendum, now)?;
                self.ceremonies.get_mut(&r).expect("checked").send(&ctx.author, shares)?;
                self.refresh_facts(r);
            }
            Body::TrusteeComplained { referendum, accused, box_secret } => {
                // A complaint may come until voting closes: a trustee who sends
                // bad shares last must not escape blame by completing the
                // ceremony (an upheld complaint voids the referendum).
                let r = self.ceremony_step_until(referendum, now, |record| record.closes_at_ms)?;
                self.ceremonies.get_mut(&r).expect("checked").complain(&ctx.author, *accused, box_secret)?;
                self.refresh_facts(r);
            }
            Body::DecryptionShared { referendum, share } => {
                let r = self.referendum_index_of(referendum)?;
                let record = self.referendum_at(r);
                if now < record.closes_at_ms {
                    return Err(Rejection::ShareTooEarly {
                        referendum: hex32(referendum),
                        closes_at_ms: record.closes_at_ms,
                    });
                }
                let ledger_id = self.view.ledger_id;
                let ceremony = self
                    .ceremonies
                    .get_mut(&r)
                    .ok_or(Rejection::NotATrustee { referendum: hex32(referendum), key: key(&ctx.author) })?;
                ceremony.share(&ctx.author, &ledger_id, share)?;
                self.refresh_facts(r);
            }
        }
        Ok(())
    }

    /// The referendum of a ceremony step, refused once voting has opened.
    fn ceremony_step(&self, referendum: &Hash, now: u64) -> Result<u32, Rejection> {
        self.ceremony_step_until(referendum, now, |record| record.opens_at_ms)
    }

    /// The referendum of a ceremony step, refused from `end(referendum)` on.
    fn ceremony_step_until(
        &self,
        referendum: &Hash,
        now: u64,
        end: impl Fn(&Referendum) -> u64,
    ) -> Result<u32, Rejection> {
        let r = self.referendum_index_of(referendum)?;
        let record = self.referendum_at(r);
        let deadline = end(record);
        if !self.ceremonies.contains_key(&r) {
            return Err(Rejection::CeremonyStepInvalid {
                referendum: hex32(referendum),
                problem: "an open referendum has no key ceremony".to_owned(),
            });
        }
        if now >= deadline {
            return Err(Rejection::CeremonyClosed { referendum: hex32(referendum), opens_at_ms: deadline });
        }
        Ok(r)
    }

    fn refresh_facts(&mut self, r: u32) {
        let facts = SecretFacts::of(&self.ceremonies[&r]);
        self.view.referendums.get_mut(r as usize).expect("indexed").secret = Some(facts);
    }

    /// Format 3: trustee keys are valid Ed25519 keys, distinct, none the log
    /// key; the decoder already bounds their number and the threshold.
    fn check_trustees(&self, trustees: &crate::event::Trustees) -> Result<crate::event::Trustees, Rejection> {
        let bad = |problem: String| Rejection::BadTrustees { problem };
        let n = trustees.keys.len();
        if !(crate::limits::TRUSTEES_MIN..=crate::limits::TRUSTEES_MAX).contains(&n) {
            return Err(bad(format!(
                "{n} trustees; between {} and {} are needed",
                crate::limits::TRUSTEES_MIN,
                crate::limits::TRUSTEES_MAX
            )));
        }
        let t = usize::from(trustees.threshold);
        if t < crate::limits::TRUSTEES_MIN || t > n {
            return Err(bad(format!("threshold {t} of {n} trustees; it must be at least 2 and at most {n}")));
        }
        let mut seen = HashSet::new();
        for trustee in &trustees.keys {
            check_key(trustee).map_err(|problem| bad(format!("trustee key {} is unfit: {problem}", Hex(*trustee))))?;
            if !seen.insert(*trustee) {
                return Err(bad(format!("trustee key {} is named twice", Hex(*trustee))));
            }
            if *trustee == self.view.genesis.log_key {
                return Err(bad("the log key cannot be a trustee".to_owned()));
            }
        }
        Ok(trustees.clone())
    }

    /// Supports (online or paper) are accepted while the petition collects:
    /// not withdrawn, ruled or in a referendum (format 2 also closes it once
    /// the council's response period has run out), and before its deadline.
    fn check_collecting(&self, p: u32, now: u64) -> Result<(), Rejection> {
        self.petition_at(p).takes_supports(self.rules(), self.view.version, now)
    }
}

fn qualify(petition: &mut Petition, now: u64) {
    if petition.qualified_at_ms.is_none() && petition.supports() >= petition.threshold {
        petition.qualified_at_ms = Some(now);
    }
}
