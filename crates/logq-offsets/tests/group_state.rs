//! Example-based tests of `GroupState` and `Groups`: limits, timing rules, replay errors,
//! checkpoint validation.

use logq_offsets::{
    Checkpoint, GroupConfig, GroupError, GroupEvent, GroupId, GroupState, Groups, GroupsError,
    Lease, OutcomeRef, StartPosition, Status, REASON_BYTES_MAX,
};

fn config(lease_ms: u64, max_deliveries: u32, max_in_flight: u32) -> GroupConfig {
    GroupConfig {
        lease_ms,
        max_deliveries,
        max_in_flight,
    }
}

#[test]
fn zero_limits_are_refused() {
    assert!(matches!(
        GroupState::new(config(10, 0, 1), 0),
        Err(GroupError::InvalidConfig { .. })
    ));
    assert!(matches!(
        GroupState::new(config(10, 1, 0), 0),
        Err(GroupError::InvalidConfig { .. })
    ));
}

#[test]
fn poison_message_becomes_a_dead_letter_candidate_after_max_deliveries() {
    let mut group = GroupState::new(config(100, 2, 10), 0).unwrap();
    assert_eq!(group.deliver(0, 1, 0).unwrap().attempt, 1);
    assert_eq!(
        group.next_deliverable(100, 1),
        Some(0),
        "lease expired at its deadline"
    );
    assert_eq!(group.deliver(0, 1, 100).unwrap().attempt, 2);
    assert_eq!(
        group.dead_letter_candidates(150).count(),
        0,
        "lease still running"
    );
    assert_eq!(group.next_deliverable(200, 1), None, "used its deliveries");
    assert_eq!(
        group.dead_letter_candidates(200).collect::<Vec<_>>(),
        vec![0]
    );
    assert_eq!(
        group.deliver(0, 1, 200),
        Err(GroupError::DeliveryLimitReached {
            offset: 0,
            attempts: 2
        })
    );
    group.dead_letter(0, "poison").unwrap();
    assert_eq!(
        group.status(0),
        Status::DeadLettered {
            reason: "poison".into()
        }
    );
    assert_eq!(group.dead_letter_candidates(200).count(), 0);
    assert_eq!(
        group.min_unacked_offset(),
        1,
        "dead letters do not hold retention back"
    );
    assert_eq!(group.ack(0), Err(GroupError::DeadLettered { offset: 0 }));
}

#[test]
fn max_in_flight_counts_only_unexpired_leases() {
    let mut group = GroupState::new(config(10, 5, 2), 0).unwrap();
    group.deliver(0, 1, 0).unwrap();
    group.deliver(1, 1, 0).unwrap();
    assert_eq!(group.next_deliverable(5, 10), None);
    assert_eq!(
        group.deliver(2, 1, 5),
        Err(GroupError::InFlightLimitReached { in_flight: 2 })
    );
    assert_eq!(
        group.next_deliverable(10, 10),
        Some(0),
        "both leases expired"
    );
    assert_eq!(group.stats(10).in_flight, 0);
    assert_eq!(group.stats(10).expired_leases, 2);
}

#[test]
fn nack_delays_and_release_does_not() {
    let mut group = GroupState::new(config(1_000, 5, 10), 0).unwrap();
    group.deliver(0, 1, 0).unwrap();
    group.deliver(1, 1, 0).unwrap();
    assert_eq!(group.nack(0, 50, 10), Ok(60));
    group.release(1).unwrap();
    assert_eq!(
        group.status(0),
        Status::Delayed {
            until_ms: 60,
            attempts: 1
        }
    );
    assert_eq!(group.status(1), Status::Pending { attempts: 1 });
    assert_eq!(group.next_deliverable(10, 3), Some(1));
    assert_eq!(
        group.deliver(0, 2, 59),
        Err(GroupError::Delayed {
            offset: 0,
            until_ms: 60
        })
    );
    assert_eq!(group.deliver(1, 2, 59).unwrap().attempt, 2);
    assert_eq!(group.next_deliverable(59, 3), Some(2));
    assert_eq!(group.next_deliverable(60, 3), Some(0));
    assert_eq!(group.release(2), Err(GroupError::NotLeased { offset: 2 }));
}

#[test]
fn extend_checks_holder_and_expiry() {
    let mut group = GroupState::new(config(100, 5, 10), 0).unwrap();
    group.deliver(0, 1, 0).unwrap();
    assert_eq!(
        group.extend(0, 2, 10, 50),
        Err(GroupError::WrongConsumer {
            offset: 0,
            holder_id: 1,
            requester_id: 2
        })
    );
    let lease = group.extend(0, 1, 30, 50).unwrap();
    assert_eq!(
        lease,
        Lease {
            consumer_id: 1,
            deadline_ms: 130,
            attempt: 1
        }
    );
    assert_eq!(group.next_deliverable(129, 1), None);
    assert_eq!(
        group.extend(0, 1, 30, 130),
        Err(GroupError::LeaseExpired {
            offset: 0,
            deadline_ms: 130
        })
    );
    assert_eq!(
        group.extend(5, 1, 30, 130),
        Err(GroupError::NotLeased { offset: 5 })
    );
}

#[test]
fn ack_through_is_exclusive_and_keeps_dead_letters() {
    let mut group = GroupState::new(config(100, 5, 10), 0).unwrap();
    group.deliver(0, 1, 0).unwrap();
    group.dead_letter(1, "bad").unwrap();
    assert_eq!(group.ack_through(4), 3, "0, 2 and 3; 1 was dead");
    assert!(matches!(group.status(3), Status::Acked { outcome: None }));
    assert_eq!(group.status(4), Status::Pending { attempts: 0 });
    assert!(matches!(group.status(1), Status::DeadLettered { .. }));
    assert_eq!(group.min_unacked_offset(), 4);
    assert_eq!(group.next_to_deliver(), 4);
    assert_eq!(
        group.stats(0).in_flight,
        0,
        "the lease on 0 went with the ack"
    );
    assert_eq!(group.ack_through(2), 0);
}

#[test]
fn acks_ahead_of_the_cursor_are_skipped_and_kept_as_gaps() {
    let mut group = GroupState::new(config(100, 5, 10), 0).unwrap();
    assert_eq!(group.ack(2), Ok(true));
    assert_eq!(group.ack(2), Ok(false));
    assert_eq!(group.ack_with_outcome(4, OutcomeRef(77)), Ok(true));
    assert_eq!(
        group.ack_with_outcome(4, OutcomeRef(78)),
        Ok(false),
        "first outcome kept"
    );
    assert_eq!(
        group.status(4),
        Status::Acked {
            outcome: Some(OutcomeRef(77))
        }
    );
    let stats = group.stats(0);
    assert_eq!(
        (stats.gaps, stats.acked_above_floor, stats.outcomes),
        (2, 2, 1)
    );
    for expected in [0, 1, 3, 5] {
        assert_eq!(group.next_deliverable(0, 6), Some(expected));
        group.deliver(expected, 1, 0).unwrap();
    }
    assert_eq!(
        group.deliver(7, 1, 0),
        Err(GroupError::NotReached {
            offset: 7,
            next_to_deliver: 6
        })
    );
    assert_eq!(group.forget_outcomes_below(5), 1);
    assert_eq!(group.status(4), Status::Acked { outcome: None });
}

#[test]
fn the_clock_never_runs_backwards() {
    let mut group = GroupState::new(config(100, 5, 10), 0).unwrap();
    group.deliver(0, 1, 0).unwrap();
    assert_eq!(group.next_deliverable(100, 2), Some(0));
    // An earlier time counts as the latest seen: the lease stays expired.
    assert_eq!(group.next_deliverable(50, 2), Some(0));
    assert_eq!(group.deliver(0, 2, 50).unwrap().deadline_ms, 200);
}

#[test]
fn zero_length_leases_expire_at_once() {
    let mut group = GroupState::new(config(0, 3, 1), 0).unwrap();
    group.deliver(0, 1, 5).unwrap();
    assert_eq!(group.next_deliverable(5, 1), Some(0));
    group.check_invariants().unwrap();
}

#[test]
fn dead_letter_reasons_are_bounded() {
    let mut group = GroupState::new(config(100, 5, 10), 0).unwrap();
    let reason = "x".repeat(usize::try_from(REASON_BYTES_MAX).unwrap() + 1);
    assert!(matches!(
        group.dead_letter(0, &reason),
        Err(GroupError::ReasonTooLong { .. })
    ));
    assert_eq!(group.status(0), Status::Pending { attempts: 0 });
    assert_eq!(
        group.dead_letter(u64::MAX, "r"),
        Err(GroupError::OffsetOutOfRange { offset: u64::MAX })
    );
}

#[test]
fn apply_refuses_events_that_do_not_fit() {
    let group_id = GroupId(1);
    let mut group = GroupState::new(config(100, 5, 10), 0).unwrap();
    let delivered = |offset, attempt| GroupEvent::Delivered {
        group: group_id,
        offset,
        consumer_id: 1,
        attempt,
        deadline_ms: 10,
    };
    assert_eq!(
        group.apply(&delivered(0, 2), None),
        Err(GroupError::AttemptMismatch {
            offset: 0,
            expected: 1,
            found: 2
        })
    );
    assert!(matches!(
        group.apply(&delivered(3, 1), None),
        Err(GroupError::NotReached { .. })
    ));
    group.apply(&delivered(0, 1), None).unwrap();
    let with_bytes = GroupEvent::Acked {
        group: group_id,
        offset: 0,
        outcome: Some(vec![1]),
    };
    assert!(matches!(
        group.apply(&with_bytes, None),
        Err(GroupError::OutcomeRefMismatch { .. })
    ));
    let without = GroupEvent::Acked {
        group: group_id,
        offset: 0,
        outcome: None,
    };
    assert!(matches!(
        group.apply(&without, Some(OutcomeRef(1))),
        Err(GroupError::OutcomeRefMismatch { .. })
    ));
    let created = GroupEvent::GroupCreated {
        group: group_id,
        name: "g".into(),
        start_offset: 0,
    };
    assert!(matches!(
        group.apply(&created, None),
        Err(GroupError::NotAGroupEvent { .. })
    ));
    assert_eq!(
        group.status(0),
        Status::InFlight {
            attempt: 1,
            consumer_id: 1,
            deadline_ms: 10
        }
    );
    group.apply(&with_bytes, Some(OutcomeRef(9))).unwrap();
    assert_eq!(
        group.status(0),
        Status::Acked {
            outcome: Some(OutcomeRef(9))
        }
    );
}

#[test]
fn inconsistent_checkpoints_are_refused() {
    let config = config(100, 5, 10);
    let mut group = GroupState::new(config, 0).unwrap();
    group.deliver(0, 1, 0).unwrap();
    group.deliver(1, 1, 0).unwrap();
    group.ack(1).unwrap();
    let good = group.checkpoint(GroupId(1), "g");
    assert_eq!(GroupState::from_checkpoint(config, &good).unwrap(), group);

    let broken: Vec<(&str, Checkpoint)> = vec![
        (
            "cursor on a settled offset",
            Checkpoint {
                next_to_deliver: 1,
                ..good.clone()
            },
        ),
        (
            "lease without attempts",
            Checkpoint {
                attempts: vec![],
                ..good.clone()
            },
        ),
        (
            "missing attempt count",
            Checkpoint {
                next_to_deliver: 3,
                ..good.clone()
            },
        ),
        (
            "adjacent range",
            Checkpoint {
                settled_ranges: vec![1..2, 2..3],
                ..good.clone()
            },
        ),
        (
            "dead but not settled",
            Checkpoint {
                dead: vec![(5, "r".into())],
                ..good.clone()
            },
        ),
        (
            "outcome not acked",
            Checkpoint {
                outcomes: vec![(0, OutcomeRef(1))],
                ..good.clone()
            },
        ),
        (
            "unsorted",
            Checkpoint {
                attempts: vec![(0, 1), (0, 1)],
                ..good.clone()
            },
        ),
        (
            "lease attempt differs",
            Checkpoint {
                leases: vec![(
                    0,
                    Lease {
                        consumer_id: 1,
                        deadline_ms: 100,
                        attempt: 2,
                    },
                )],
                ..good.clone()
            },
        ),
        (
            "leased and delayed",
            Checkpoint {
                delays: vec![(0, 5)],
                ..good.clone()
            },
        ),
    ];
    for (what, checkpoint) in broken {
        assert!(
            matches!(
                GroupState::from_checkpoint(config, &checkpoint),
                Err(GroupError::Inconsistent { .. })
            ),
            "{what} was accepted"
        );
    }
}

#[test]
fn draining_many_expired_leases_finds_them_in_order() {
    let mut group = GroupState::new(config(10, 3, 100_000), 0).unwrap();
    for offset in 0..20_000 {
        group.deliver(offset, offset % 7, offset / 1000).unwrap();
    }
    let now_ms = 1_000;
    for expected in 0..20_000 {
        assert_eq!(group.next_deliverable(now_ms, 20_000), Some(expected));
        assert_eq!(group.deliver(expected, 1, now_ms).unwrap().attempt, 2);
    }
    assert_eq!(group.next_deliverable(now_ms, 20_000), None);
    assert_eq!(group.stats(now_ms).in_flight, 20_000);
}

#[test]
fn groups_create_delete_and_replay() {
    let config = config(100, 5, 10);
    let mut groups = Groups::new(config).unwrap();
    let mut journal = vec![groups.create("a", StartPosition::Earliest, 5, 9).unwrap()];
    journal.push(groups.create("b", StartPosition::Next, 5, 9).unwrap());
    journal.push(groups.create("c", StartPosition::Offset(7), 5, 9).unwrap());
    assert_eq!(
        groups.create("a", StartPosition::Next, 5, 9),
        Err(GroupsError::GroupExists { name: "a".into() })
    );
    assert!(matches!(
        groups.create("", StartPosition::Next, 5, 9),
        Err(GroupsError::BadName { .. })
    ));
    assert_eq!(groups.min_unacked_offset(), Some(5));
    let a = groups.id("a").unwrap();
    let lease = groups.get_mut("a").unwrap().deliver(5, 1, 0).unwrap();
    journal.push(GroupEvent::Delivered {
        group: a,
        offset: 5,
        consumer_id: 1,
        attempt: lease.attempt,
        deadline_ms: lease.deadline_ms,
    });
    journal.push(groups.delete("a").unwrap());
    assert_eq!(groups.min_unacked_offset(), Some(7));
    assert_eq!(groups.get("a"), None);
    assert_eq!(
        groups.delete("a"),
        Err(GroupsError::UnknownGroup { name: "a".into() })
    );
    // Ids are not reused.
    journal.push(groups.create("a", StartPosition::Next, 5, 9).unwrap());
    assert_ne!(groups.id("a"), Some(a));

    let mut replayed = Groups::new(config).unwrap();
    for event in &journal {
        let decoded = GroupEvent::decode(&event.to_bytes().unwrap()).unwrap();
        replayed.apply(&decoded, None).unwrap();
    }
    assert_eq!(replayed, groups);
    let restored = Groups::from_checkpoints(config, &groups.checkpoints()).unwrap();
    assert_eq!(restored.iter().count(), 3);
    assert_eq!(restored.min_unacked_offset(), groups.min_unacked_offset());
    assert!(matches!(
        replayed.apply(
            &GroupEvent::Released {
                group: GroupId(99),
                offset: 0
            },
            None
        ),
        Err(GroupsError::UnknownGroupId { .. })
    ));
    assert!(matches!(
        replayed.apply(
            &GroupEvent::Released {
                group: groups.id("b").unwrap(),
                offset: 0
            },
            None
        ),
        Err(GroupsError::Group {
            source: GroupError::NotLeased { offset: 0 },
            ..
        })
    ));
}
