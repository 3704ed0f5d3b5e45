//! `dauys-sim`: the deterministic simulation over many seeds, for campaigns
//! longer than CI runs. `dauys-sim --seed N` replays one seed;
//! `dauys-sim --seeds FIRST..LAST [--steps S]` runs a range and reports
//! totals (seeds, acts, power cuts, simulated hours) for BENCHMARKS.md.

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seeds = 0..100u64;
    let mut steps = 300u64;
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).map(String::as_str).unwrap_or_default();
        match args[i].as_str() {
            "--seed" => match value.parse::<u64>() {
                Ok(seed) => seeds = seed..seed + 1,
                Err(_) => return usage(),
            },
            "--seeds" => match value.split_once("..").and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?))) {
                Some((first, last)) => seeds = first..last,
                None => return usage(),
            },
            "--steps" => match value.parse() {
                Ok(n) => steps = n,
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
        i += 2;
    }
    let started = Instant::now();
    let mut total = dauys_node::sim::Stats::default();
    let count = seeds.end - seeds.start;
    for seed in seeds {
        match dauys_node::sim::run(seed, steps) {
            Ok(stats) => {
                total.acts += stats.acts;
                total.acknowledged += stats.acknowledged;
                total.refused += stats.refused;
                total.unavailable += stats.unavailable;
                total.power_cuts += stats.power_cuts;
                total.kills += stats.kills;
                total.torn_tails += stats.torn_tails;
                total.full_disks += stats.full_disks;
                total.failed_syncs += stats.failed_syncs;
                total.entries += stats.entries;
                total.simulated_ms += stats.simulated_ms;
            }
            Err(violation) => {
                eprintln!("VIOLATION {violation}");
                return ExitCode::from(1);
            }
        }
    }
    println!("seeds: {count} x {steps} steps, all promises kept, in {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "acts {} (acknowledged {}, refused {}, not recorded {}); entries {}",
        total.acts, total.acknowledged, total.refused, total.unavailable, total.entries
    );
    println!(
        "power cuts {}, kills {}, torn tails recovered {}, full disks {}, failed syncs {}",
        total.power_cuts, total.kills, total.torn_tails, total.full_disks, total.failed_syncs
    );
    println!("simulated time: {:.0} hours", total.simulated_ms as f64 / 3_600_000.0);
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: dauys-sim [--seed N | --seeds FIRST..LAST] [--steps S]");
    ExitCode::from(2)
}
