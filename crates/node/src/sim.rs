//! The deterministic simulation, in the spirit of TigerBeetle's VOPR and
//! FoundationDB's simulator: the node's own [`Writer`] and the store's own
//! log run on a simulated disk ([`dauys_store::sim`]) and a simulated clock,
//! driven from one seed by a workload of valid and invalid acts, power cuts,
//! process kills, full disks and failing syncs.
//!
//! After every restart it checks the promises:
//! - every acknowledged entry is present, byte for byte, at its position;
//! - recovery never refuses a log that only lost unsynced data, and keeps
//!   every byte it cuts;
//! - the recovered rule state equals the writer's state at the last durable
//!   batch;
//! - a failed append leaves the log exactly as it was;
//! - at the end, the whole log verifies with every signature checked.
//!
//! `dauys-sim --seed N` replays one seed; the test suite runs a bounded
//! number of seeds on every CI run.

use dauys_core::event::{Ballot, Body, Decision, LedgerOpened, Outcome as Declared, Rules, Subject};
use dauys_core::verify::{prepare_entry, prepare_entry_presigned};
use dauys_core::{sha256, ChainVerifier, Hash, Keypair, Payload, Sequencer, Submission, Version};
use dauys_store::log::{self, Tail};
use dauys_store::sim::{Faults, SimDisk, SimFile, SimRng};
use dauys_store::{Log, LogFile};

use crate::writer::{Act, Clock, Health, Outcome, Writer};

/// The simulated clock: moves forward by what the workload says, and
/// sometimes steps backwards, as real clocks do.
#[derive(Debug, Clone)]
pub struct SimClock {
    now_ms: u64,
}

impl Clock for SimClock {
    fn now_ms(&mut self) -> u64 {
        self.now_ms
    }
}

/// What one seed did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Acts submitted.
    pub acts: u64,
    /// Acts acknowledged (durable).
    pub acknowledged: u64,
    /// Acts refused by the rules.
    pub refused: u64,
    /// Acts answered "not recorded" (failed appends).
    pub unavailable: u64,
    /// Power cuts.
    pub power_cuts: u64,
    /// Process kills.
    pub kills: u64,
    /// Torn tails recovered.
    pub torn_tails: u64,
    /// Full-disk failures.
    pub full_disks: u64,
    /// Failed syncs.
    pub failed_syncs: u64,
    /// Entries in the final log.
    pub entries: u64,
    /// Simulated time covered, in milliseconds.
    pub simulated_ms: u64,
}

/// A broken promise, with the seed and step to replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The seed.
    pub seed: u64,
    /// The step at which it was found.
    pub step: u64,
    /// What broke.
    pub what: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seed {} step {}: {} (replay: dauys-sim --seed {})", self.seed, self.step, self.what, self.seed)
    }
}

const VOTERS: usize = 24;
const DAY: u64 = 86_400_000;
const T0: u64 = 1_772_431_200_000;

fn key(label: &str) -> Keypair {
    Keypair::from_seed(&sha256(format!("dauys-sim/{label}").as_bytes()))
}

/// The simulated world's keys and ledger.
struct World {
    commission: Keypair,
    council: Keypair,
    log: Keypair,
    voters: Vec<Keypair>,
    outsider: Keypair,
    ledger_id: Hash,
    /// The next nonce per author (by label), so nonces grow as clients do.
    nonces: std::collections::HashMap<[u8; 32], u64>,
    petitions: Vec<Hash>,
    referendums: Vec<Hash>,
    /// Acts once accepted, to replay byte for byte (stale nonces).
    replayable: Vec<Submission>,
}

impl World {
    fn new(seed: u64) -> Self {
        Self {
            commission: key("commission"),
            council: key("council"),
            log: key("log"),
            voters: (0..VOTERS).map(|n| key(&format!("voter/{n}"))).collect(),
            outsider: key("outsider"),
            ledger_id: sha256(&seed.to_be_bytes()),
            nonces: std::collections::HashMap::new(),
            petitions: Vec::new(),
            referendums: Vec::new(),
            replayable: Vec::new(),
        }
    }

    fn sign(&mut self, author: &Keypair, body: Body) -> Act {
        let nonce = self.nonces.entry(author.public()).or_insert(1);
        *nonce += 1;
        let payload = Payload { version: Version::V2, ledger_id: self.ledger_id, nonce: *nonce, body };
        Act { submission: Submission::sign(author, &payload), payload, checked: None }
    }

    fn genesis(&mut self) -> Act {
        let subject = |id: &str, excluded: bool, terms: &[&str]| Subject {
            id: id.into(),
            excluded,
            terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        };
        let rules = Rules {
            signing_period_ms: 10 * DAY,
            council_response_period_ms: 5 * DAY,
            referendum_window_min_ms: DAY,
            referendum_window_max_ms: 7 * DAY,
            threshold_supports_min: 3,
            threshold_share_bp: 1_000,
            approval_share_bp: 5_000,
            yes_share_of_electorate_bp: 1_000,
            subjects: vec![
                subject("culture", false, &[]),
                subject("roads", false, &[]),
                subject("budget", true, &["tax", "budget"]),
                subject("staffing", true, &[]),
                subject("internal-organisation", true, &[]),
            ],
        };
        let body = Body::LedgerOpened(LedgerOpened {
            jurisdiction: "Simulated village".into(),
            origin: Some("sim.example/ledger".into()),
            commission_key: self.commission.public(),
            log_key: self.log.public(),
            council_key: self.council.public(),
            rules,
        });
        let commission = Keypair::from_seed(&self.commission.seed());
        self.sign(&commission, body)
    }

    /// One random act: mostly ones the rules may accept, some that they
    /// must refuse.
    fn act(&mut self, rng: &mut SimRng, now_ms: u64) -> Act {
        let voter = |rng: &mut SimRng, world: &World| Keypair::from_seed(&world.voters[rng.index(VOTERS)].seed());
        let pick = |rng: &mut SimRng, ids: &[Hash]| {
            if ids.is_empty() || rng.chance(1, 20) {
                sha256(&rng.next_u64().to_be_bytes())
            } else {
                ids[rng.index(ids.len())]
            }
        };
        let commission = Keypair::from_seed(&self.commission.seed());
        let council = Keypair::from_seed(&self.council.seed());
        match rng.below(20) {
            0..=1 => {
                let keys: Vec<_> = (0..1 + rng.below(4)).map(|_| voter(rng, self).public()).collect();
                self.sign(&commission, Body::VotersEnrolled { district: format!("d{}", rng.below(3)), keys })
            }
            2 => {
                let key = voter(rng, self).public();
                self.sign(&commission, Body::VoterRemoved { key, reasons: "Moved away.".into() })
            }
            3..=4 => {
                let title = if rng.chance(1, 5) {
                    "Lower the t\u{200b}ax".to_owned()
                } else {
                    format!("Petition {}", rng.below(1000))
                };
                let author = voter(rng, self);
                self.sign(&author, Body::PetitionFiled { subject: "culture".into(), title, text: "Please.".into() })
            }
            5..=10 => {
                let petition = pick(rng, &self.petitions);
                let author = voter(rng, self);
                self.sign(&author, Body::PetitionSupported { petition })
            }
            11 => {
                let petition = pick(rng, &self.petitions);
                self.sign(
                    &commission,
                    Body::PaperSupportsRecorded { petition, count: 1 + rng.below(3), sheets_sha256: [7; 32] },
                )
            }
            12 => {
                let petition = pick(rng, &self.petitions);
                let decision = if rng.chance(1, 2) { Decision::Accept } else { Decision::Reject };
                self.sign(&council, Body::CouncilRuled { petition, decision, reasons: "Decided.".into() })
            }
            13 => {
                let petition = pick(rng, &self.petitions);
                let opens_at_ms = now_ms + rng.below(DAY);
                let body = Body::ReferendumCalled {
                    petition,
                    subject: "culture".into(),
                    question: "Yes?".into(),
                    options: vec!["Yes".into(), "No".into()],
                    opens_at_ms,
                    closes_at_ms: opens_at_ms + DAY + rng.below(6 * DAY),
                    trustees: None,
                };
                self.sign(&commission, body)
            }
            14..=16 => {
                let referendum = pick(rng, &self.referendums);
                let author = voter(rng, self);
                let choice = u8::try_from(rng.below(3)).unwrap_or(0);
                self.sign(&author, Body::BallotCast { referendum, ballot: Ballot::Open { choice } })
            }
            17 => {
                let referendum = pick(rng, &self.referendums);
                let tally = vec![rng.below(5), rng.below(5)];
                let outcome = if rng.chance(1, 2) { Declared::Approved } else { Declared::NotApproved };
                self.sign(&commission, Body::ResultDeclared { referendum, tally, outcome })
            }
            18 => {
                let author = voter(rng, self);
                let petition = pick(rng, &self.petitions);
                self.sign(&author, Body::PetitionWithdrawn { petition, reasons: String::new() })
            }
            _ => match self.replayable.len() {
                // A stale nonce: an accepted act sent again, byte for byte.
                n if n > 0 && rng.chance(1, 2) => {
                    let submission = self.replayable[rng.index(n)].clone();
                    let payload = Payload::decode(&submission.payload).expect("own acts decode");
                    Act { submission, payload, checked: None }
                }
                _ => {
                    let outsider = Keypair::from_seed(&self.outsider.seed());
                    self.sign(&outsider, Body::PetitionSupported { petition: pick(rng, &self.petitions) })
                }
            },
        }
    }

    fn accepted(&mut self, act: &Act, hash: Hash) {
        match act.payload.body {
            Body::PetitionFiled { .. } => self.petitions.push(hash),
            Body::ReferendumCalled { .. } => self.referendums.push(hash),
            _ => {}
        }
        if self.replayable.len() < 64 {
            self.replayable.push(act.submission.clone());
        }
    }
}

/// The simulation of one seed.
struct Run {
    seed: u64,
    step: u64,
    rng: SimRng,
    disk: SimDisk,
    world: World,
    clock_ms: u64,
    /// Every acknowledged entry: position → bytes.
    acknowledged: Vec<Option<Vec<u8>>>,
    /// The state after the last batch known durable.
    durable_state: Sequencer,
    writer: Option<Writer<Log<SimFile>, SimClock>>,
    stats: Stats,
}

impl Run {
    fn violation(&self, what: impl Into<String>) -> Violation {
        Violation { seed: self.seed, step: self.step, what: what.into() }
    }

    fn writer(&mut self) -> &mut Writer<Log<SimFile>, SimClock> {
        self.writer.as_mut().expect("the writer runs between restarts")
    }

    /// Opens the log on the disk as a restarting node does: scan, keep a torn
    /// tail aside and cut it, replay.
    fn restart(&mut self) -> Result<(), Violation> {
        self.writer = None;
        let file = self.disk.file();
        let mut verifier = ChainVerifier::new();
        let scan = log::scan(&file, |_, entry| {
            verifier.check(&prepare_entry_presigned(entry.to_vec())).map_err(|f| f.to_string())
        })
        .map_err(|e| self.violation(format!("recovery could not read the log: {e:?}")))?;
        match &scan.tail {
            Tail::Clean => {}
            Tail::Corrupt(damage) => {
                if std::env::var_os("DAUYS_SIM_DUMP").is_some() {
                    let image = self.disk.visible();
                    eprintln!("end {} len {}", scan.end, image.len());
                    let end = usize::try_from(scan.end).unwrap_or(0);
                    for (i, chunk) in image[end..].chunks(32).enumerate() {
                        eprintln!("{:6} {}", end + i * 32, hex::encode(chunk));
                    }
                }
                return Err(self.violation(format!("recovery refused a log that only lost unsynced data: {damage:?}")));
            }
            Tail::Torn { offset, bytes, .. } => {
                let image = self.disk.visible();
                let kept = &image[usize::try_from(*offset).unwrap_or(0)..];
                if kept.len() as u64 != *bytes {
                    return Err(self.violation("the torn tail's length is not the bytes after the commit"));
                }
                self.stats.torn_tails += 1;
                let mut file = self.disk.file();
                file.truncate(*offset).map_err(|e| self.violation(format!("cutting the tail: {e}")))?;
            }
        }
        let log = Log::from_scan(self.disk.file(), &scan);
        // Every acknowledged entry is there, byte for byte.
        let entries = log.read_range(0, u64::MAX).map_err(|e| self.violation(format!("reading back: {e}")))?;
        for (position, acked) in self.acknowledged.iter().enumerate() {
            if let Some(bytes) = acked {
                match entries.get(position) {
                    Some(found) if found == bytes => {}
                    Some(_) => return Err(self.violation(format!("acknowledged entry {position} changed"))),
                    None => {
                        return Err(self.violation(format!(
                            "acknowledged entry {position} lost (log has {} entries)",
                            entries.len()
                        )))
                    }
                }
            }
        }
        let Some(sequencer) = verifier.into_sequencer() else {
            return Err(self.violation("the genesis was lost"));
        };
        // The recovered state is the state at the last durable batch, or at
        // a later one whose sync completed but whose answer never went out.
        if sequencer.size() == self.durable_state.size() && sequencer != self.durable_state {
            return Err(self.violation("the recovered state differs from the state at the last durable batch"));
        }
        if sequencer.size() < self.durable_state.size() {
            return Err(self.violation("recovery lost durable entries"));
        }
        self.durable_state = sequencer.clone();
        self.acknowledged.resize(usize::try_from(sequencer.size()).unwrap_or(0), None);
        self.writer = Some(Writer::new(log, sequencer, SimClock { now_ms: self.clock_ms }));
        Ok(())
    }

    fn commit(&mut self, acts: Vec<Act>) -> Result<(), Violation> {
        let before = self.disk.visible();
        let size_before = self.writer().size();
        self.writer().clock_mut().now_ms = self.clock_ms;
        let outcomes = self.writer().commit(&acts);
        self.stats.acts += acts.len() as u64;
        let mut grew = false;
        for (act, outcome) in acts.iter().zip(&outcomes) {
            match outcome {
                Outcome::Accepted { position, hash, .. } => {
                    grew = true;
                    self.stats.acknowledged += 1;
                    let bytes = self
                        .writer()
                        .journal()
                        .read_range(*position, 1)
                        .map_err(|e| self.violation(format!("reading an acknowledged entry: {e}")))?
                        .pop();
                    if bytes.as_deref().map(sha256) != Some(*hash) {
                        return Err(self.violation(format!("acknowledged entry {position} is not in the log")));
                    }
                    let slot = usize::try_from(*position).unwrap_or(usize::MAX);
                    if self.acknowledged.len() <= slot {
                        self.acknowledged.resize(slot + 1, None);
                    }
                    self.acknowledged[slot] = bytes;
                    self.world.accepted(act, *hash);
                }
                Outcome::Refused(_) => self.stats.refused += 1,
                Outcome::Unavailable(_) => self.stats.unavailable += 1,
            }
        }
        let writer = self.writer.as_ref().expect("running");
        if grew {
            self.durable_state = writer.sequencer().clone();
        } else if outcomes.iter().any(|o| matches!(o, Outcome::Unavailable(_))) {
            // A failed append leaves the log as it was (unless the log's state
            // is unknown, when the node must restart).
            if !matches!(writer.health(), Health::Stopped(_)) && self.disk.visible() != before {
                return Err(self.violation("a failed append changed the log"));
            }
            if writer.size() != size_before && !matches!(writer.health(), Health::Stopped(_)) {
                return Err(self.violation("a failed append moved the writer's size"));
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<(), Violation> {
        self.step += 1;
        // Time passes: milliseconds to days; now and then the clock steps back.
        self.clock_ms = match self.rng.below(10) {
            0 => self.clock_ms.saturating_sub(self.rng.below(60_000)),
            1 => self.clock_ms + self.rng.below(3 * DAY),
            _ => self.clock_ms + self.rng.below(600_000),
        };
        let stopped = matches!(self.writer.as_ref().map(Writer::health), Some(Health::Stopped(_)));
        match self.rng.below(100) {
            _ if stopped => {
                // The node refuses every act until restarted.
                self.stats.kills += 1;
                self.disk.kill();
                self.restart()
            }
            0..=3 => {
                self.stats.power_cuts += 1;
                self.disk.crash();
                self.restart()
            }
            4..=6 => {
                self.stats.kills += 1;
                self.disk.kill();
                self.restart()
            }
            7..=9 => {
                // Power fails while the next batch syncs: nothing of it is
                // acknowledged, and any part of it may reach the disk.
                self.disk.set_faults(Faults { fail_next_sync: true, fail_next_truncate: true, ..Faults::default() });
                let acts = self.batch();
                self.commit(acts)?;
                self.stats.power_cuts += 1;
                self.disk.crash();
                self.restart()
            }
            10..=11 => {
                self.stats.full_disks += 1;
                let room = self.rng.below(300);
                let len = self.disk.visible().len() as u64;
                self.disk.set_faults(Faults { capacity: Some(len + room), ..Faults::default() });
                let acts = self.batch();
                self.commit(acts)?;
                self.disk.set_faults(Faults::default());
                Ok(())
            }
            12..=13 => {
                self.stats.failed_syncs += 1;
                self.disk.set_faults(Faults { fail_next_sync: true, ..Faults::default() });
                let acts = self.batch();
                self.commit(acts)?;
                self.disk.set_faults(Faults::default());
                Ok(())
            }
            _ => {
                let acts = self.batch();
                self.commit(acts)
            }
        }
    }

    fn batch(&mut self) -> Vec<Act> {
        let n = 1 + self.rng.below(12);
        (0..n).map(|_| self.world.act(&mut self.rng, self.clock_ms)).collect()
    }
}

/// Runs one seed for `steps` steps.
pub fn run(seed: u64, steps: u64) -> Result<Stats, Violation> {
    let mut rng = SimRng::new(seed);
    let disk = SimDisk::new(rng.next_u64());
    let mut world = World::new(seed);
    let genesis = world.genesis();
    let (sequencer, first) = Sequencer::genesis(&genesis.submission, &genesis.payload, T0).map_err(|e| Violation {
        seed,
        step: 0,
        what: format!("the simulation's genesis is refused: {e}"),
    })?;
    let mut log = Log::create(disk.file()).map_err(|e| Violation { seed, step: 0, what: e.to_string() })?;
    log.append(&[(first.bytes.as_slice(), first.hash)]).map_err(|e| Violation {
        seed,
        step: 0,
        what: e.to_string(),
    })?;
    let mut run = Run {
        seed,
        step: 0,
        rng,
        disk,
        world,
        clock_ms: T0,
        acknowledged: vec![Some(first.bytes)],
        durable_state: sequencer.clone(),
        writer: Some(Writer::new(log, sequencer, SimClock { now_ms: T0 })),
        stats: Stats::default(),
    };
    for _ in 0..steps {
        run.step()?;
    }
    // A last power cut, then the whole log verified with every signature.
    run.disk.crash();
    run.restart()?;
    let entries = run
        .writer()
        .journal()
        .read_range(0, u64::MAX)
        .map_err(|e| run.violation(format!("reading the final log: {e}")))?;
    let mut verifier = ChainVerifier::new();
    for bytes in &entries {
        verifier
            .check(&prepare_entry(bytes.clone()))
            .map_err(|f| run.violation(format!("the final log does not verify: {f}")))?;
    }
    run.stats.entries = entries.len() as u64;
    run.stats.simulated_ms = run.clock_ms.saturating_sub(T0);
    Ok(run.stats)
}
