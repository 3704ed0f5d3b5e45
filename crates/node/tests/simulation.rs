//! The deterministic simulation, a bounded number of seeds per run: power
//! cuts, kills, full disks and failing syncs against the real writer and
//! log, with every promise checked after every restart. A failing seed is
//! printed with the command that replays it; long campaigns run with
//! `dauys-sim` (BENCHMARKS.md reports them).

#[test]
fn seeds_keep_every_promise() {
    let first: u64 = std::env::var("DAUYS_SIM_FIRST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let seeds: u64 = std::env::var("DAUYS_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(48);
    let mut total = dauys_node::sim::Stats::default();
    for seed in first..first + seeds {
        match dauys_node::sim::run(seed, 150) {
            Ok(stats) => {
                total.acknowledged += stats.acknowledged;
                total.power_cuts += stats.power_cuts;
                total.torn_tails += stats.torn_tails;
                total.full_disks += stats.full_disks;
                total.failed_syncs += stats.failed_syncs;
                total.refused += stats.refused;
            }
            Err(violation) => panic!("{violation}"),
        }
    }
    eprintln!("{seeds} seeds: {total:?}");
    // The workload must actually exercise what it claims to.
    assert!(total.acknowledged > 1_000, "{total:?}");
    assert!(total.refused > 100, "{total:?}");
    assert!(total.power_cuts > 20 && total.torn_tails > 5, "{total:?}");
    assert!(total.full_disks > 5 && total.failed_syncs > 5, "{total:?}");
}
