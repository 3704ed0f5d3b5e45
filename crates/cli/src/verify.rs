//! The observer's verifier: signature checks on every core (rayon), the
//! rule core in order, a progress bar, a human or JSON verdict.

use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;

use dauys_core::verify::{prepare_line, LineSplitter, Prepared, Reason};
use dauys_core::{ChainVerifier, Failure, SignedHead, Summary, Verified};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// Lines prepared in parallel per round.
const BATCH_LINES: usize = 16_384;

/// Where the chain stood after a given number of entries, for checking a
/// signed head against the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checkpoint {
    /// The size to record the head at.
    pub size: u64,
    /// The head hash once the chain reached that size.
    pub head: Option<dauys_core::Hash>,
}

fn check_batch(
    chain: &mut ChainVerifier,
    lines: &mut Vec<Vec<u8>>,
    checkpoint: &mut Checkpoint,
) -> Result<(), Failure> {
    let prepared: Vec<Prepared> = lines.par_iter().map(|line| prepare_line(line)).collect();
    lines.clear();
    prepared.iter().try_for_each(|p| {
        chain.check(p)?;
        if chain.size() == checkpoint.size {
            checkpoint.head = Some(*chain.head());
        }
        Ok(())
    })
}

/// Verifies an export read from `reader`. The outer error is IO; the inner
/// result is the verdict.
pub fn verify_reader(
    reader: Box<dyn Read + Send>,
    progress: Option<&ProgressBar>,
    checkpoint: &mut Checkpoint,
) -> anyhow::Result<Result<Verified, Failure>> {
    let mut reader = reader;
    let mut chain = ChainVerifier::new();
    let mut splitter = LineSplitter::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut lines: Vec<Vec<u8>> = Vec::new();
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        if let Some(bar) = progress {
            bar.inc(n as u64);
        }
        let too_long = splitter
            .feed(&buffer[..n], |line| {
                lines.push(line.to_vec());
                true
            })
            .is_err();
        if lines.len() >= BATCH_LINES || too_long {
            if let Err(failure) = check_batch(&mut chain, &mut lines, checkpoint) {
                return Ok(Err(failure));
            }
        }
        if too_long {
            let detail = format!("line longer than {} bytes", dauys_core::limits::LINE_BYTES_MAX);
            return Ok(Err(Failure { position: chain.size(), reason: Reason::MalformedLine { detail } }));
        }
    }
    if let Err(failure) = check_batch(&mut chain, &mut lines, checkpoint) {
        return Ok(Err(failure));
    }
    if splitter.has_partial() {
        return Ok(Err(Failure { position: chain.size(), reason: Reason::TruncatedLine }));
    }
    Ok(chain.finish())
}

fn time(ms: u64) -> String {
    // Plain UTC date and time from epoch milliseconds (civil-from-days).
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}

fn print_summary(summary: &Summary) {
    println!("VALID: {} entries, head {}", summary.size, summary.head);
    println!("ledger {} — {}", summary.ledger_id, summary.jurisdiction);
    println!("as of {}: {} voters enrolled", time(summary.time_ms), summary.enrolled);
    println!("\npetitions ({}):", summary.petitions.len());
    for p in &summary.petitions {
        println!(
            "  #{:<5} {:<16} {} online + {} paper / {} needed, signing until {}  {}",
            p.petition.position,
            p.status,
            p.petition.supports_online,
            p.petition.supports_paper,
            p.petition.threshold,
            time(p.petition.signing_deadline_ms),
            p.petition.title
        );
        if let Some(ruling) = &p.petition.ruling {
            println!("         council: {:?} — {}", ruling.decision, ruling.reasons);
        }
    }
    println!("\nreferendums ({}):", summary.referendums.len());
    for r in &summary.referendums {
        let tally: Vec<String> =
            r.referendum.options.iter().zip(&r.referendum.tally).map(|(o, n)| format!("{o} {n}")).collect();
        println!(
            "  #{:<5} {:<9} {} — {} (electorate {}), outcome: {:?}{}",
            r.referendum.position,
            r.phase,
            r.referendum.question,
            tally.join(", "),
            r.referendum.electorate,
            r.computed_outcome,
            if r.referendum.declared.is_some() { " (declared, matches)" } else { "" }
        );
    }
    println!("\ndistricts:");
    for d in &summary.districts {
        let name = if d.name.is_empty() { "(none)" } else { &d.name };
        println!("  {name:<16} enrolled {:<6} supports {:<6} ballots {}", d.enrolled, d.supports, d.ballots);
    }
}

/// `dauys verify`.
pub fn run(source: &str, json: bool) -> anyhow::Result<ExitCode> {
    let length = std::fs::metadata(source).ok().filter(|m| m.is_file()).map(|m| m.len());
    // From a node, its signed head is fetched first, so the export (a later
    // snapshot) contains the entry it names; it is checked after the log.
    let signed_head: Option<SignedHead> = if crate::is_url(source) {
        let url = format!("{}/v1/head", source.trim_end_matches('/'));
        Some(serde_json::from_reader(crate::http_get(&url)?).map_err(|e| anyhow::anyhow!("GET {url}: {e}"))?)
    } else {
        None
    };
    let mut checkpoint = Checkpoint { size: signed_head.as_ref().map_or(0, |h| h.size), head: None };
    let reader = crate::open_source(source)?;
    let bar = match length {
        Some(length) if length > 8 << 20 => {
            let bar = ProgressBar::new(length);
            bar.set_style(ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")?);
            Some(bar)
        }
        _ => None,
    };
    let verdict = verify_reader(reader, bar.as_ref(), &mut checkpoint)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match verdict {
        Ok(verified) => {
            let summary = Summary::from(&verified);
            let head_check = signed_head.map(|head| {
                let signature_valid = head.verify(&verified.ledger.genesis().log_key).is_ok();
                let names_this_log =
                    head.ledger_id == *verified.ledger.ledger_id() && checkpoint.head == Some(head.head_hash);
                (head, signature_valid, names_this_log)
            });
            let consistent = head_check.as_ref().is_none_or(|(_, valid, names)| *valid && *names);
            if json {
                let head_json = head_check.as_ref().map(|(head, valid, names)| {
                    serde_json::json!({"size": head.size, "head_hash": hex::encode(head.head_hash),
                        "signature_valid": valid, "names_this_log": names})
                });
                let verdict = if consistent { "valid" } else { "invalid" };
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"verdict": verdict, "summary": summary, "signed_head": head_json})
                    )?
                );
            } else {
                print_summary(&summary);
                if let Some((head, valid, names)) = &head_check {
                    match (valid, names) {
                        (true, true) => {
                            println!("\nsigned head: entry {} signed by the log key matches this log", head.size)
                        }
                        (false, _) => println!("\nINVALID: the node's signed head does not verify under its log key"),
                        (true, false) => println!(
                            "\nINVALID: the node signed a head (size {}) that is not in the log it served",
                            head.size
                        ),
                    }
                }
            }
            Ok(if consistent { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Err(failure) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"verdict": "invalid", "failure": failure}))?
                );
            } else {
                println!("INVALID at entry {}: {} — {}", failure.position, failure.reason.code(), failure.reason);
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// `dauys follow`: tails the live stream, verifying each entry.
pub fn follow(url: &str) -> anyhow::Result<ExitCode> {
    let stream = crate::http_get(&format!("{}/v1/stream?from=0", url.trim_end_matches('/')))?;
    let mut chain = ChainVerifier::new();
    for line in BufReader::new(stream).lines() {
        let line = line?;
        let Some(data) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) else { continue };
        let prepared = prepare_line(data.as_bytes());
        let kind = prepared.as_ref().ok().and_then(|p| p.payload.as_ref().ok()).map(|p| p.body.kind().name());
        if let Err(failure) = chain.check(&prepared) {
            println!("INVALID at entry {}: {} — {}", failure.position, failure.reason.code(), failure.reason);
            return Ok(ExitCode::from(1));
        }
        if let Some(ledger) = chain.ledger() {
            let supports: u64 = ledger.petitions().iter().map(|p| p.supports()).sum();
            let ballots: u64 = ledger.referendums().iter().map(|r| r.ballots()).sum();
            println!(
                "#{} {:<24} verified — enrolled {}, petitions {}, supports {}, ballots {}",
                chain.size() - 1,
                kind.unwrap_or("?"),
                ledger.enrolled(),
                ledger.petitions().len(),
                supports,
                ballots
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
