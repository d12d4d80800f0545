//! State-machine test: random operations on a `GroupState` and on a naive model built from
//! plain maps, compared after every step; then replay of the journal (whole, and from a
//! checkpoint taken midway) must rebuild the live state.

use std::collections::{BTreeMap, BTreeSet};

use logq_offsets::{
    Checkpoint, GroupConfig, GroupError, GroupEvent, GroupId, GroupState, Lease, OutcomeRef, Status,
};
use proptest::prelude::*;

const GROUP: GroupId = GroupId(7);

#[derive(Debug, Clone)]
enum Op {
    /// Deliver whatever `next_deliverable` proposes.
    DeliverNext {
        consumer_id: u64,
    },
    Deliver {
        offset: u64,
        consumer_id: u64,
    },
    /// `consumer_id: None` means the lease holder.
    Extend {
        offset: u64,
        consumer_id: Option<u64>,
        extra_ms: u64,
    },
    Ack {
        offset: u64,
    },
    AckWithOutcome {
        offset: u64,
        outcome: Vec<u8>,
    },
    AckThrough {
        next_offset: u64,
    },
    Nack {
        offset: u64,
        delay_ms: u64,
    },
    Release {
        offset: u64,
    },
    DeadLetter {
        offset: u64,
    },
    /// Dead-letter every candidate, as the queue layer would.
    DeadLetterCandidates,
    ForgetOutcomes {
        next_offset: u64,
    },
    AdvanceClock {
        ms: u64,
    },
    Append {
        messages: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let offset = 0u64..28;
    prop_oneof![
        6 => (0u64..3).prop_map(|consumer_id| Op::DeliverNext { consumer_id }),
        2 => (offset.clone(), 0u64..3).prop_map(|(offset, consumer_id)| Op::Deliver { offset, consumer_id }),
        2 => (offset.clone(), prop::option::weighted(0.2, 0u64..3), 0u64..40)
            .prop_map(|(offset, consumer_id, extra_ms)| Op::Extend { offset, consumer_id, extra_ms }),
        3 => offset.clone().prop_map(|offset| Op::Ack { offset }),
        1 => (offset.clone(), prop::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(offset, outcome)| Op::AckWithOutcome { offset, outcome }),
        1 => (0u64..30).prop_map(|next_offset| Op::AckThrough { next_offset }),
        2 => (offset.clone(), 0u64..30).prop_map(|(offset, delay_ms)| Op::Nack { offset, delay_ms }),
        2 => offset.clone().prop_map(|offset| Op::Release { offset }),
        1 => offset.clone().prop_map(|offset| Op::DeadLetter { offset }),
        1 => Just(Op::DeadLetterCandidates),
        1 => (0u64..30).prop_map(|next_offset| Op::ForgetOutcomes { next_offset }),
        4 => (0u64..40).prop_map(|ms| Op::AdvanceClock { ms }),
        1 => (1u64..5).prop_map(|messages| Op::Append { messages }),
    ]
}

fn config() -> impl Strategy<Value = GroupConfig> {
    (1u64..50, 1u32..4, 1u32..5).prop_map(|(lease_ms, max_deliveries, max_in_flight)| GroupConfig {
        lease_ms,
        max_deliveries,
        max_in_flight,
    })
}

/// The naive model: every fact in its own map, every question answered by a scan.
#[derive(Debug, Default)]
struct Model {
    config: GroupConfig,
    acked: BTreeSet<u64>,
    dead: BTreeMap<u64, String>,
    outcomes: BTreeMap<u64, OutcomeRef>,
    attempts: BTreeMap<u64, u32>,
    leases: BTreeMap<u64, Lease>,
    delays: BTreeMap<u64, u64>,
    delivered_ever: BTreeSet<u64>,
}

impl Model {
    fn settled(&self, offset: u64) -> bool {
        self.acked.contains(&offset) || self.dead.contains_key(&offset)
    }

    fn next_to_deliver(&self) -> u64 {
        (0..)
            .find(|o| !self.settled(*o) && !self.delivered_ever.contains(o))
            .unwrap()
    }

    fn in_flight(&self, now_ms: u64) -> u64 {
        self.leases
            .values()
            .filter(|l| l.deadline_ms > now_ms)
            .count()
            .try_into()
            .unwrap()
    }

    fn due(&self, offset: u64, now_ms: u64) -> bool {
        !self.settled(offset)
            && self
                .leases
                .get(&offset)
                .is_none_or(|l| l.deadline_ms <= now_ms)
            && self
                .delays
                .get(&offset)
                .is_none_or(|&until| until <= now_ms)
    }

    fn next_deliverable(&self, now_ms: u64, log_end: u64) -> Option<u64> {
        if self.in_flight(now_ms) >= u64::from(self.config.max_in_flight) {
            return None;
        }
        let cursor = self.next_to_deliver();
        (0..log_end).find(|&o| {
            self.due(o, now_ms)
                && (o <= cursor)
                && self.attempts.get(&o).copied().unwrap_or(0) < self.config.max_deliveries
        })
    }

    fn dead_letter_candidates(&self, now_ms: u64) -> Vec<u64> {
        self.attempts
            .iter()
            .filter(|&(&o, &a)| a >= self.config.max_deliveries && self.due(o, now_ms))
            .map(|(&o, _)| o)
            .collect()
    }

    fn deliver(&mut self, offset: u64, consumer_id: u64, now_ms: u64) -> Result<Lease, GroupError> {
        if self.dead.contains_key(&offset) {
            return Err(GroupError::DeadLettered { offset });
        }
        if self.acked.contains(&offset) {
            return Err(GroupError::AlreadyAcked { offset });
        }
        let next_to_deliver = self.next_to_deliver();
        if offset > next_to_deliver {
            return Err(GroupError::NotReached {
                offset,
                next_to_deliver,
            });
        }
        if let Some(l) = self.leases.get(&offset).filter(|l| l.deadline_ms > now_ms) {
            return Err(GroupError::AlreadyLeased {
                offset,
                consumer_id: l.consumer_id,
                deadline_ms: l.deadline_ms,
            });
        }
        if let Some(&until_ms) = self.delays.get(&offset).filter(|&&u| u > now_ms) {
            return Err(GroupError::Delayed { offset, until_ms });
        }
        let attempts = self.attempts.get(&offset).copied().unwrap_or(0);
        if attempts >= self.config.max_deliveries {
            return Err(GroupError::DeliveryLimitReached { offset, attempts });
        }
        let in_flight = self.in_flight(now_ms);
        if in_flight >= u64::from(self.config.max_in_flight) {
            return Err(GroupError::InFlightLimitReached { in_flight });
        }
        let lease = Lease {
            consumer_id,
            deadline_ms: now_ms + self.config.lease_ms,
            attempt: attempts + 1,
        };
        self.leases.insert(offset, lease);
        self.attempts.insert(offset, attempts + 1);
        self.delays.remove(&offset);
        self.delivered_ever.insert(offset);
        Ok(lease)
    }

    fn forget_delivery(&mut self, offset: u64) {
        self.leases.remove(&offset);
        self.delays.remove(&offset);
        self.attempts.remove(&offset);
    }

    fn ack(&mut self, offset: u64, outcome: Option<OutcomeRef>) -> Result<bool, GroupError> {
        if self.dead.contains_key(&offset) {
            return Err(GroupError::DeadLettered { offset });
        }
        if !self.acked.insert(offset) {
            return Ok(false);
        }
        self.forget_delivery(offset);
        if let Some(outcome) = outcome {
            self.outcomes.insert(offset, outcome);
        }
        Ok(true)
    }

    fn status(&self, offset: u64) -> Status {
        if let Some(reason) = self.dead.get(&offset) {
            return Status::DeadLettered {
                reason: reason.clone(),
            };
        }
        if self.acked.contains(&offset) {
            return Status::Acked {
                outcome: self.outcomes.get(&offset).copied(),
            };
        }
        let attempts = self.attempts.get(&offset).copied().unwrap_or(0);
        if let Some(l) = self.leases.get(&offset) {
            return Status::InFlight {
                attempt: l.attempt,
                consumer_id: l.consumer_id,
                deadline_ms: l.deadline_ms,
            };
        }
        match self.delays.get(&offset) {
            Some(&until_ms) => Status::Delayed { until_ms, attempts },
            None => Status::Pending { attempts },
        }
    }
}

struct Harness {
    live: GroupState,
    model: Model,
    now_ms: u64,
    log_end: u64,
    /// The journal: every event with its outcome locator (its own index when it has bytes).
    journal: Vec<GroupEvent>,
}

impl Harness {
    fn record(&mut self, event: GroupEvent) {
        self.journal.push(event);
    }

    fn journal_position(&self) -> OutcomeRef {
        OutcomeRef(u64::try_from(self.journal.len()).unwrap())
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now_ms = self.now_ms;
        match op.clone() {
            Op::DeliverNext { consumer_id } => {
                let expected = self.model.next_deliverable(now_ms, self.log_end);
                let proposed = self.live.next_deliverable(now_ms, self.log_end);
                prop_assert_eq!(proposed, expected, "next_deliverable");
                if let Some(offset) = proposed {
                    prop_assert!(!self.model.settled(offset), "settled offset proposed");
                    self.deliver(offset, consumer_id)?;
                }
            }
            Op::Deliver {
                offset,
                consumer_id,
            } => self.deliver(offset, consumer_id)?,
            Op::Extend {
                offset,
                consumer_id,
                extra_ms,
            } => {
                let holder = self.model.leases.get(&offset).copied();
                let consumer_id = consumer_id.or(holder.map(|l| l.consumer_id)).unwrap_or(0);
                let expected = match holder {
                    None => Err(GroupError::NotLeased { offset }),
                    Some(l) if l.consumer_id != consumer_id => Err(GroupError::WrongConsumer {
                        offset,
                        holder_id: l.consumer_id,
                        requester_id: consumer_id,
                    }),
                    Some(l) if l.deadline_ms <= now_ms => Err(GroupError::LeaseExpired {
                        offset,
                        deadline_ms: l.deadline_ms,
                    }),
                    Some(l) => Ok(Lease {
                        deadline_ms: l.deadline_ms + extra_ms,
                        ..l
                    }),
                };
                let result = self.live.extend(offset, consumer_id, extra_ms, now_ms);
                prop_assert_eq!(&result, &expected);
                if let Ok(lease) = result {
                    self.model.leases.insert(offset, lease);
                    self.record(GroupEvent::Extended {
                        group: GROUP,
                        offset,
                        deadline_ms: lease.deadline_ms,
                    });
                }
            }
            Op::Ack { offset } => {
                let expected = self.model.ack(offset, None);
                prop_assert_eq!(self.live.ack(offset), expected.clone());
                if expected == Ok(true) {
                    self.record(GroupEvent::Acked {
                        group: GROUP,
                        offset,
                        outcome: None,
                    });
                }
            }
            Op::AckWithOutcome { offset, outcome } => {
                let outcome_ref = self.journal_position();
                let checked = self.live.check_ack(offset);
                let expected = self.model.ack(offset, Some(outcome_ref));
                prop_assert_eq!(&checked, &expected);
                prop_assert_eq!(
                    self.live.ack_with_outcome(offset, outcome_ref),
                    expected.clone()
                );
                if expected == Ok(true) {
                    self.record(GroupEvent::Acked {
                        group: GROUP,
                        offset,
                        outcome: Some(outcome),
                    });
                }
            }
            Op::AckThrough { next_offset } => {
                let newly: Vec<u64> = (0..next_offset)
                    .filter(|&o| !self.model.settled(o))
                    .collect();
                for &offset in &newly {
                    self.model.ack(offset, None).unwrap();
                }
                let added = self.live.ack_through(next_offset);
                prop_assert_eq!(added, u64::try_from(newly.len()).unwrap());
                if added > 0 {
                    self.record(GroupEvent::AckedThrough {
                        group: GROUP,
                        next_offset,
                    });
                }
            }
            Op::Nack { offset, delay_ms } => {
                let result = self.live.nack(offset, delay_ms, now_ms);
                if self.model.leases.remove(&offset).is_some() {
                    prop_assert_eq!(result, Ok(now_ms + delay_ms));
                    self.model.delays.insert(offset, now_ms + delay_ms);
                    self.record(GroupEvent::Nacked {
                        group: GROUP,
                        offset,
                        not_before_ms: now_ms + delay_ms,
                    });
                } else {
                    prop_assert_eq!(result, Err(GroupError::NotLeased { offset }));
                }
            }
            Op::Release { offset } => {
                let result = self.live.release(offset);
                if self.model.leases.remove(&offset).is_some() {
                    prop_assert_eq!(result, Ok(()));
                    self.record(GroupEvent::Released {
                        group: GROUP,
                        offset,
                    });
                } else {
                    prop_assert_eq!(result, Err(GroupError::NotLeased { offset }));
                }
            }
            Op::DeadLetter { offset } => self.dead_letter(offset)?,
            Op::DeadLetterCandidates => {
                let candidates: Vec<u64> = self.live.dead_letter_candidates(now_ms).collect();
                prop_assert_eq!(&candidates, &self.model.dead_letter_candidates(now_ms));
                for offset in candidates {
                    prop_assert!(self.model.attempts[&offset] >= self.model.config.max_deliveries);
                    self.dead_letter(offset)?;
                }
            }
            Op::ForgetOutcomes { next_offset } => {
                let kept = self.model.outcomes.split_off(&next_offset);
                let dropped = std::mem::replace(&mut self.model.outcomes, kept).len();
                prop_assert_eq!(self.live.forget_outcomes_below(next_offset), dropped);
                if dropped > 0 {
                    self.record(GroupEvent::OutcomesForgotten {
                        group: GROUP,
                        next_offset,
                    });
                }
            }
            Op::AdvanceClock { ms } => self.now_ms += ms,
            Op::Append { messages } => self.log_end += messages,
        }
        Ok(())
    }

    fn deliver(&mut self, offset: u64, consumer_id: u64) -> Result<(), TestCaseError> {
        let expected = self.model.deliver(offset, consumer_id, self.now_ms);
        let result = self.live.deliver(offset, consumer_id, self.now_ms);
        prop_assert_eq!(&result, &expected, "deliver({}) at {}", offset, self.now_ms);
        if let Ok(lease) = result {
            prop_assert!(
                lease.attempt <= self.model.config.max_deliveries,
                "max_deliveries"
            );
            self.record(GroupEvent::Delivered {
                group: GROUP,
                offset,
                consumer_id,
                attempt: lease.attempt,
                deadline_ms: lease.deadline_ms,
            });
        }
        Ok(())
    }

    fn dead_letter(&mut self, offset: u64) -> Result<(), TestCaseError> {
        let reason = format!("dead at {}", self.now_ms);
        let expected = if self.model.dead.contains_key(&offset) {
            Err(GroupError::DeadLettered { offset })
        } else if self.model.acked.contains(&offset) {
            Err(GroupError::AlreadyAcked { offset })
        } else {
            self.model.forget_delivery(offset);
            self.model.dead.insert(offset, reason.clone());
            Ok(())
        };
        prop_assert_eq!(self.live.dead_letter(offset, &reason), expected.clone());
        if expected.is_ok() {
            self.record(GroupEvent::DeadLettered {
                group: GROUP,
                offset,
                reason,
            });
        }
        Ok(())
    }

    /// Everything checked after every step.
    fn check(&mut self, previous_attempts: &BTreeMap<u64, u32>) -> Result<(), TestCaseError> {
        self.live
            .check_invariants()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for offset in 0..self.log_end + 4 {
            prop_assert_eq!(
                self.live.status(offset),
                self.model.status(offset),
                "status({})",
                offset
            );
            if !self.model.settled(offset) {
                let before = previous_attempts.get(&offset).copied().unwrap_or(0);
                prop_assert!(
                    self.live.attempts(offset) >= before,
                    "attempts of {} went down",
                    offset
                );
            }
            prop_assert!(self.live.attempts(offset) <= self.model.config.max_deliveries);
        }
        prop_assert_eq!(self.live.next_to_deliver(), self.model.next_to_deliver());
        let min_unsettled = (0..).find(|&o| !self.model.settled(o)).unwrap();
        prop_assert_eq!(self.live.min_unacked_offset(), min_unsettled);
        let stats = self.live.stats(self.now_ms);
        prop_assert_eq!(stats.in_flight, self.model.in_flight(self.now_ms));
        prop_assert!(
            stats.in_flight <= u64::from(self.model.config.max_in_flight),
            "max_in_flight"
        );
        prop_assert_eq!(stats.dead, u64::try_from(self.model.dead.len()).unwrap());
        prop_assert_eq!(
            stats.delayed,
            u64::try_from(self.model.delays.len()).unwrap()
        );
        let above = self
            .model
            .acked
            .iter()
            .chain(self.model.dead.keys())
            .filter(|&&o| o > min_unsettled)
            .count();
        prop_assert_eq!(stats.acked_above_floor, u64::try_from(above).unwrap());
        Ok(())
    }

    /// Liveness: once the clock passes every lease and delay, every unsettled offset below
    /// the log end is either deliverable or a dead-letter candidate. Runs on a copy.
    fn check_everything_eventually_deliverable(&self) -> Result<(), TestCaseError> {
        let mut state = self.live.clone();
        let far_ms = self.now_ms + 1_000_000;
        let candidates: BTreeSet<u64> = state.dead_letter_candidates(far_ms).collect();
        let mut reached = candidates.clone();
        let log_end = self
            .log_end
            .max(self.model.attempts.keys().max().map_or(0, |&o| o + 1));
        while let Some(offset) = state.next_deliverable(far_ms, log_end) {
            if offset >= self.log_end && !self.model.attempts.contains_key(&offset) {
                break; // never-delivered offsets beyond the log end are not messages
            }
            prop_assert!(
                !candidates.contains(&offset),
                "candidate {} proposed",
                offset
            );
            prop_assert!(reached.insert(offset), "offset {} proposed twice", offset);
            state
                .deliver(offset, 99, far_ms)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(state.ack(offset), Ok(true));
        }
        // Offsets delivered beyond the log end (the harness does not stop that) count too.
        let unsettled: BTreeSet<u64> = (0..self.log_end)
            .filter(|&o| !self.model.settled(o))
            .chain(self.model.attempts.keys().copied())
            .collect();
        prop_assert_eq!(reached, unsettled);
        Ok(())
    }
}

/// Replays encoded events onto `state`, giving each ack with outcome bytes its position.
fn replay(
    state: &mut GroupState,
    journal: &[GroupEvent],
    first_position: usize,
) -> Result<(), TestCaseError> {
    for (index, event) in journal.iter().enumerate() {
        let bytes = event.to_bytes().unwrap();
        let decoded = GroupEvent::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, event);
        let outcome_ref = match &decoded {
            GroupEvent::Acked {
                outcome: Some(_), ..
            } => Some(OutcomeRef(u64::try_from(first_position + index).unwrap())),
            _ => None,
        };
        state
            .apply(&decoded, outcome_ref)
            .map_err(|e| TestCaseError::fail(format!("replay of {event:?}: {e}")))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn group_state_matches_the_model_and_replays(
        config in config(),
        start_offset in 0u64..3,
        initial_messages in 0u64..12,
        ops in prop::collection::vec(op(), 1..120),
        checkpoint_at in any::<prop::sample::Index>(),
    ) {
        let mut harness = Harness {
            live: GroupState::new(config, start_offset).unwrap(),
            model: Model { config, acked: (0..start_offset).collect(), ..Model::default() },
            now_ms: 0,
            log_end: start_offset + initial_messages,
            journal: Vec::new(),
        };
        let checkpoint_at = checkpoint_at.index(ops.len());
        let mut checkpoint = None;
        for (index, op) in ops.iter().enumerate() {
            if index == checkpoint_at {
                let bytes = harness.live.checkpoint(GROUP, "g").to_bytes().unwrap();
                checkpoint = Some((Checkpoint::decode(&bytes).unwrap(), harness.journal.len()));
            }
            let previous_attempts = harness.model.attempts.clone();
            harness.step(op)?;
            harness.check(&previous_attempts)?;
        }
        harness.check_everything_eventually_deliverable()?;

        // Replay the whole journal onto a fresh state.
        let mut replayed = GroupState::new(config, start_offset).unwrap();
        replay(&mut replayed, &harness.journal, 0)?;
        prop_assert_eq!(&replayed, &harness.live);
        replayed.check_invariants().map_err(|e| TestCaseError::fail(e.to_string()))?;

        // Restore the midway checkpoint and replay what followed it.
        let (checkpoint, position) = checkpoint.unwrap();
        let mut restored = GroupState::from_checkpoint(config, &checkpoint)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        replay(&mut restored, &harness.journal[position..], position)?;
        prop_assert_eq!(&restored, &harness.live);
        prop_assert_eq!(restored.checkpoint(GROUP, "g"), harness.live.checkpoint(GROUP, "g"));
        // The restored state behaves like the live one from here on.
        let now_ms = harness.now_ms;
        prop_assert_eq!(
            restored.next_deliverable(now_ms, harness.log_end),
            harness.live.next_deliverable(now_ms, harness.log_end)
        );
        let candidates: Vec<u64> = restored.dead_letter_candidates(now_ms).collect();
        prop_assert_eq!(candidates, harness.live.dead_letter_candidates(now_ms).collect::<Vec<_>>());
    }
}
