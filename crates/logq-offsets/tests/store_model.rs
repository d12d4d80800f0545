//! State machine: random deliveries, acks (with outcomes), nacks, releases, lease expiry,
//! checkpoints and crashes (drop without close) against a model, checking after every reopen
//! that acks stick, outcomes are there, attempt counts never go down, and every message not
//! acknowledged is delivered again (at least once).

use logq_log::LogOptions;
use logq_offsets::{GroupConfig, MessageStatus, OffsetOptions, OffsetStore, StartPosition};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const MESSAGES: u64 = 24;
const LEASE_MS: u64 = 100;

#[derive(Clone, Debug)]
enum Op {
    Deliver(u64),
    Ack(usize),
    AckWithOutcome(usize),
    Nack(usize, u64),
    Release(usize),
    Advance(u64),
    Checkpoint,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u64..4).prop_map(Op::Deliver),
        3 => any::<usize>().prop_map(Op::Ack),
        2 => any::<usize>().prop_map(Op::AckWithOutcome),
        1 => (any::<usize>(), 0u64..300).prop_map(|(i, d)| Op::Nack(i, d)),
        1 => any::<usize>().prop_map(Op::Release),
        2 => (1u64..250).prop_map(Op::Advance),
        1 => Just(Op::Checkpoint),
        2 => Just(Op::Crash),
    ]
}

fn options() -> OffsetOptions {
    OffsetOptions::default()
        .group_config(GroupConfig {
            lease_ms: LEASE_MS,
            max_deliveries: 4,
            max_in_flight: 8,
        })
        .checkpoint_interval_records(9)
        .journal(
            LogOptions::default()
                .segment_bytes_max(700)
                .preallocate_bytes(0),
        )
}

#[derive(Default)]
struct Model {
    acked: BTreeMap<u64, Option<Vec<u8>>>,
    attempts: BTreeMap<u64, u32>,
    in_flight: BTreeSet<u64>,
}

fn check(store: &OffsetStore, model: &Model) {
    for offset in 0..MESSAGES {
        let status = store.status("g", offset).unwrap();
        if let Some(outcome) = model.acked.get(&offset) {
            assert_eq!(
                status,
                MessageStatus::Acked {
                    outcome: outcome.clone()
                },
                "offset {offset}"
            );
            continue;
        }
        let seen = model.attempts.get(&offset).copied().unwrap_or(0);
        let recorded = match status {
            MessageStatus::Pending { attempts } | MessageStatus::Delayed { attempts, .. } => {
                attempts
            }
            MessageStatus::InFlight { attempt, .. } => attempt,
            MessageStatus::Acked { .. } => panic!("offset {offset} acked but no ack returned Ok"),
            other => panic!("offset {offset}: unexpected {other:?}"),
        };
        assert!(
            recorded >= seen,
            "offset {offset}: attempts went down from {seen} to {recorded}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model_across_crashes(ops in prop::collection::vec(op(), 1..70)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = OffsetStore::open(dir.path(), options()).unwrap();
        store.ensure_group("g", StartPosition::Earliest, 0, MESSAGES).unwrap();
        let mut model = Model::default();
        let mut now = 1_000u64;
        for op in ops {
            let pick = |model: &Model, i: usize| model.in_flight.iter().copied().nth(i % model.in_flight.len().max(1));
            match op {
                Op::Deliver(consumer) => {
                    if let Some(d) = store.deliver_next("g", consumer, now, MESSAGES).unwrap() {
                        prop_assert!(!model.acked.contains_key(&d.offset), "acked {} delivered again", d.offset);
                        let seen = model.attempts.entry(d.offset).or_insert(0);
                        prop_assert!(d.lease.attempt > *seen);
                        *seen = d.lease.attempt;
                        model.in_flight.insert(d.offset);
                    }
                }
                Op::Ack(i) | Op::AckWithOutcome(i) => {
                    if let Some(offset) = pick(&model, i) {
                        let outcome = matches!(op, Op::AckWithOutcome(_)).then(|| format!("done-{offset}").into_bytes());
                        let newly = match &outcome {
                            Some(bytes) => store.ack_with_outcome("g", offset, bytes).unwrap(),
                            None => store.ack("g", offset).unwrap(),
                        };
                        prop_assert!(newly);
                        model.acked.insert(offset, outcome);
                        model.in_flight.remove(&offset);
                    }
                }
                Op::Nack(i, delay) => {
                    if let Some(offset) = pick(&model, i) {
                        if store.nack("g", offset, delay, now).is_ok() {
                            model.in_flight.remove(&offset);
                        }
                    }
                }
                Op::Release(i) => {
                    if let Some(offset) = pick(&model, i) {
                        if store.release("g", offset).is_ok() {
                            model.in_flight.remove(&offset);
                        }
                    }
                }
                Op::Advance(ms) => {
                    now += ms;
                    if ms >= LEASE_MS {
                        model.in_flight.clear(); // leases may have expired: stop acking them
                    }
                }
                Op::Checkpoint => store.checkpoint().unwrap(),
                Op::Crash => {
                    drop(store);
                    store = OffsetStore::open(dir.path(), options()).unwrap();
                    model.in_flight.clear();
                    check(&store, &model);
                }
            }
        }
        drop(store);
        let store = OffsetStore::open(dir.path(), options()).unwrap();
        check(&store, &model);
        // At least once: everything not acked is delivered again or awaits dead-lettering.
        now += 10 * LEASE_MS + 1_000;
        let mut seen = BTreeSet::new();
        for _ in 0..(MESSAGES * 8) {
            match store.deliver_next("g", 99, now, MESSAGES).unwrap() {
                Some(d) => {
                    prop_assert!(!model.acked.contains_key(&d.offset));
                    seen.insert(d.offset);
                    store.release("g", d.offset).unwrap();
                }
                None => break,
            }
        }
        let candidates: BTreeSet<u64> = store.dead_letter_candidates("g", now).unwrap().into_iter().collect();
        for offset in 0..MESSAGES {
            let acked = model.acked.contains_key(&offset);
            prop_assert!(acked || seen.contains(&offset) || candidates.contains(&offset), "offset {} lost", offset);
        }
    }
}
