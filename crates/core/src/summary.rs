//! The recomputed state as citizens and observers read it: per petition,
//! per referendum, per district. Serialized to JSON by the node, the command
//! line (`--json`) and the browser alike.

use crate::event::{Outcome, Rules};
use crate::state::{outcome, District, LedgerView, Petition, Referendum};
use crate::verify::Verified;

/// A petition with its status and deadlines at the summary's `as_of_ms`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PetitionView {
    /// The petition record.
    #[serde(flatten)]
    pub petition: Petition,
    /// Status at the summary's `as_of_ms`.
    pub status: &'static str,
    /// Whether a support at `as_of_ms` would pass the signing rules
    /// ([`Petition::takes_supports`]).
    pub takes_supports: bool,
    /// Online plus paper supports.
    pub supports_total: u64,
    /// End of the council's response period, once qualified.
    pub ruling_deadline_ms: Option<u64>,
}

/// A referendum with its phase and the outcome the tally gives.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReferendumView {
    /// The referendum record.
    #[serde(flatten)]
    pub referendum: Referendum,
    /// `scheduled`, `open`, `closed` or `declared`, at `as_of_ms`.
    pub phase: &'static str,
    /// Valid ballots.
    pub ballots: u64,
    /// The outcome the published quorum rule gives for the current tally.
    pub computed_outcome: Outcome,
}

/// The whole recomputed state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// The ledger's format version.
    pub format: u16,
    /// Ledger id.
    pub ledger_id: String,
    /// The checkpoint origin (format 2).
    pub origin: Option<String>,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Entries.
    pub size: u64,
    /// Hash of the last entry.
    pub head: String,
    /// Node time of the last entry.
    pub time_ms: u64,
    /// The moment statuses, phases and deadlines are judged at: the last
    /// entry's time, or a reader's present clock when later.
    pub as_of_ms: u64,
    /// Voters enrolled now.
    pub enrolled: u64,
    /// The threshold a petition filed now would get.
    pub threshold_now: u64,
    /// The published rules.
    pub rules: Rules,
    /// Role keys.
    pub commission_key: String,
    /// Council key.
    pub council_key: String,
    /// Log key.
    pub log_key: String,
    /// Petitions in filing order.
    pub petitions: Vec<PetitionView>,
    /// Referendums in calling order.
    pub referendums: Vec<ReferendumView>,
    /// Districts in order of first enrolment.
    pub districts: Vec<District>,
}

/// A petition's view at `now_ms`.
pub fn petition_view(ledger: &LedgerView, petition: &Petition, now_ms: u64) -> PetitionView {
    let rules = ledger.rules();
    PetitionView {
        petition: petition.clone(),
        status: petition.status(rules, now_ms).name(),
        takes_supports: petition.takes_supports(rules, ledger.version(), now_ms).is_ok(),
        supports_total: petition.supports(),
        ruling_deadline_ms: petition.ruling_deadline_ms(rules),
    }
}

/// A referendum's view at `now_ms`.
pub fn referendum_view(ledger: &LedgerView, referendum: &Referendum, now_ms: u64) -> ReferendumView {
    let phase = if referendum.declared.is_some() {
        "declared"
    } else if now_ms >= referendum.closes_at_ms {
        "closed"
    } else if now_ms >= referendum.opens_at_ms {
        "open"
    } else {
        "scheduled"
    };
    ReferendumView {
        referendum: referendum.clone(),
        phase,
        ballots: referendum.ballots(),
        computed_outcome: outcome(ledger.rules(), &referendum.tally, referendum.electorate),
    }
}

impl Summary {
    /// The summary of a ledger with `size` entries ending in `head`, its
    /// statuses judged at the last entry's time.
    pub fn new(ledger: &LedgerView, size: u64, head: &crate::Hash) -> Self {
        Self::at(ledger, size, head, 0)
    }

    /// The same summary with time-dependent statuses (a signing period that
    /// ended, a ruling overdue, a referendum's phase) judged at `reader_ms`,
    /// a reader's present clock, when it is later than the last entry. The
    /// verified state itself (counts, rulings, tallies) is the same.
    pub fn at(ledger: &LedgerView, size: u64, head: &crate::Hash, reader_ms: u64) -> Self {
        let now = ledger.time_ms().max(reader_ms);
        let genesis = ledger.genesis();
        Self {
            format: ledger.version().number(),
            ledger_id: hex::encode(ledger.ledger_id()),
            origin: genesis.origin.clone(),
            jurisdiction: genesis.jurisdiction.clone(),
            size,
            head: hex::encode(head),
            time_ms: ledger.time_ms(),
            as_of_ms: now,
            enrolled: ledger.enrolled(),
            threshold_now: crate::state::threshold(&genesis.rules, ledger.enrolled()),
            rules: genesis.rules.clone(),
            commission_key: hex::encode(genesis.commission_key),
            council_key: hex::encode(genesis.council_key),
            log_key: hex::encode(genesis.log_key),
            petitions: ledger.petitions().iter().map(|p| petition_view(ledger, p, now)).collect(),
            referendums: ledger.referendums().iter().map(|r| referendum_view(ledger, r, now)).collect(),
            districts: ledger.districts().iter().cloned().collect(),
        }
    }
}

impl From<&Verified> for Summary {
    fn from(verified: &Verified) -> Self {
        Summary::new(&verified.ledger.view(), verified.size, &verified.head)
    }
}
