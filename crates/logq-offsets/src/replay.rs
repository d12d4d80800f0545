//! Bulk replay of journal events: [`Groups::replay`].
//!
//! Replaying applies the same events through the same appliers as live changes
//! ([`GroupState::apply`]), but without keeping the derived indices (timers, due offsets,
//! expired-lease count) up to date event by event: a replay runs with the clock at 0, so
//! every lease deadline and delay end is a timer at the end of it, and those indices are a
//! function of the recorded state alone. [`Replay`] rebuilds them once, for every group,
//! when it is dropped — the state afterwards equals the one event-by-event application
//! gives (checked by the tests below and by the store's state-machine tests).
//!
//! Invariant: outside a [`Replay`], no group defers its indices.

use crate::{GroupEvent, Groups, GroupsError, OutcomeRef};

/// Applies journal events to [`Groups`] with the derived indices rebuilt once at the end
/// (when dropped). Made by [`Groups::replay`].
///
/// ```
/// use logq_offsets::{GroupConfig, GroupEvent, GroupId, Groups, StartPosition};
/// let mut groups = Groups::new(GroupConfig::default()).unwrap();
/// let id = groups.create("payments", StartPosition::Earliest, 0, 10).unwrap().group();
/// let mut replay = groups.replay();
/// replay.apply(&GroupEvent::Delivered { group: id, offset: 0, consumer_id: 1, attempt: 1, deadline_ms: 30_000 }, None).unwrap();
/// drop(replay);
/// assert_eq!(groups.get("payments").unwrap().next_timer_ms(), Some(30_000));
/// ```
pub struct Replay<'a> {
    groups: &'a mut Groups,
}

impl Groups {
    /// Starts a bulk replay (see [`Replay`]): events applied through it leave the derived
    /// indices stale until it is dropped.
    ///
    /// ```
    /// use logq_offsets::{GroupConfig, GroupEvent, Groups, StartPosition};
    /// let mut groups = Groups::new(GroupConfig::default()).unwrap();
    /// let id = groups.create("inventory", StartPosition::Earliest, 0, 5).unwrap().group();
    /// {
    ///     let mut replay = groups.replay();
    ///     replay.apply(&GroupEvent::Delivered { group: id, offset: 0, consumer_id: 1, attempt: 1, deadline_ms: 0 }, None).unwrap();
    ///     replay.apply(&GroupEvent::Acked { group: id, offset: 0, outcome: None }, None).unwrap();
    /// }
    /// assert_eq!(groups.get("inventory").unwrap().min_unacked_offset(), 1);
    /// ```
    pub fn replay(&mut self) -> Replay<'_> {
        for state in self.states_mut() {
            state.indices_deferred = true;
        }
        Replay { groups: self }
    }
}

impl Replay<'_> {
    /// Applies one journal event of any group, as [`Groups::apply`] does (an event that does
    /// not fit the state is refused and changes nothing); see [`Groups::replay`] for an
    /// example.
    pub fn apply(
        &mut self,
        event: &GroupEvent,
        outcome_ref: Option<OutcomeRef>,
    ) -> Result<(), GroupsError> {
        self.groups.apply(event, outcome_ref)?;
        if let GroupEvent::GroupCreated { group, .. } = event {
            if let Some(state) = self.groups.get_by_id_mut(*group) {
                state.indices_deferred = true;
            }
        }
        Ok(())
    }
}

impl Drop for Replay<'_> {
    fn drop(&mut self) {
        for state in self.groups.states_mut() {
            state.indices_deferred = false;
            state.rebuild_indices();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{GroupConfig, GroupEvent, GroupId, Groups, OutcomeRef, StartPosition};
    use proptest::prelude::*;

    /// Events that fit a group's state in sequence: deliveries (the most), acks, releases,
    /// nacks, extensions and dead letters of offsets 0..8, with deadlines and delay ends of
    /// 0 (due at once at clock 0), 1,000 or 2,000 ms; the ones that do not fit are dropped.
    fn valid_events(ops: &[(u8, u64, u64)]) -> Vec<(GroupEvent, Option<OutcomeRef>)> {
        let config = GroupConfig {
            lease_ms: 1_000,
            max_deliveries: 3,
            max_in_flight: 100,
        };
        let mut groups = Groups::new(config).unwrap();
        let created = groups.create("g", StartPosition::Earliest, 0, 8).unwrap();
        let group = created.group();
        let mut events = vec![(created, None)];
        for (i, &(kind, offset, at_ms)) in ops.iter().enumerate() {
            let state = groups.get("g").unwrap().clone();
            let attempt = state.attempts(offset) + 1;
            let event = match kind % 8 {
                0..=2 => GroupEvent::Delivered {
                    group,
                    offset: offset.min(state.next_to_deliver()),
                    consumer_id: 1,
                    attempt: state.attempts(offset.min(state.next_to_deliver())) + 1,
                    deadline_ms: at_ms,
                },
                3 => GroupEvent::Acked {
                    group,
                    offset,
                    outcome: None,
                },
                4 => GroupEvent::Released { group, offset },
                5 => GroupEvent::Nacked {
                    group,
                    offset,
                    not_before_ms: at_ms,
                },
                6 => GroupEvent::Extended {
                    group,
                    offset,
                    deadline_ms: at_ms,
                },
                _ => GroupEvent::DeadLettered {
                    group,
                    offset,
                    reason: format!("r{i} a{attempt}"),
                },
            };
            if groups.apply(&event, None).is_ok() {
                events.push((event, None));
            }
        }
        events
    }

    proptest! {
        /// A bulk replay ends in the same state, derived indices included, as applying the
        /// events one by one.
        #[test]
        fn replay_equals_event_by_event(ops in prop::collection::vec((0u8..8, 0u64..8, (0u64..3).prop_map(|t| t * 1_000)), 0..80)) {
            let events = valid_events(&ops);
            let config = GroupConfig { lease_ms: 1_000, max_deliveries: 3, max_in_flight: 100 };
            let mut one_by_one = Groups::new(config).unwrap();
            for (event, outcome_ref) in &events {
                one_by_one.apply(event, *outcome_ref).unwrap();
            }
            let mut bulk = Groups::new(config).unwrap();
            {
                let mut replay = bulk.replay();
                for (event, outcome_ref) in &events {
                    replay.apply(event, *outcome_ref).unwrap();
                }
            }
            prop_assert_eq!(&bulk, &one_by_one);
            for ((_, _, a), (_, _, b)) in bulk.iter().zip(one_by_one.iter()) {
                a.check_invariants().unwrap();
                prop_assert_eq!(a.next_timer_ms(), b.next_timer_ms());
                prop_assert_eq!(&a.timers, &b.timers);
                prop_assert_eq!(&a.ready, &b.ready);
                prop_assert_eq!(&a.exhausted, &b.exhausted);
                prop_assert_eq!(a.expired_leases, b.expired_leases);
                prop_assert!(!a.indices_deferred);
            }
        }
    }

    #[test]
    fn a_group_created_during_the_replay_gets_its_indices() {
        let mut groups = Groups::new(GroupConfig::default()).unwrap();
        let group = GroupId(1);
        {
            let mut replay = groups.replay();
            replay
                .apply(
                    &GroupEvent::GroupCreated {
                        group,
                        name: "late".into(),
                        start_offset: 0,
                    },
                    None,
                )
                .unwrap();
            replay
                .apply(
                    &GroupEvent::Delivered {
                        group,
                        offset: 0,
                        consumer_id: 7,
                        attempt: 1,
                        deadline_ms: 5_000,
                    },
                    None,
                )
                .unwrap();
            assert!(groups_state_deferred(&replay));
        }
        let state = groups.get("late").unwrap();
        assert_eq!(state.next_timer_ms(), Some(5_000));
        state.check_invariants().unwrap();
    }

    fn groups_state_deferred(replay: &super::Replay<'_>) -> bool {
        replay.groups.iter().all(|(_, _, s)| s.indices_deferred)
    }
}
