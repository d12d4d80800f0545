//! Proptest strategies shared by the codec tests.

#![allow(dead_code)]

use logq_offsets::{Checkpoint, GroupEvent, GroupId, Lease, OutcomeRef};
use proptest::prelude::*;

pub fn group_id() -> impl Strategy<Value = GroupId> {
    any::<u32>().prop_map(GroupId)
}

/// Offsets, times and ids: small values and extremes.
pub fn wide_u64() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1000, Just(u64::MAX), Just(u64::MAX - 1), any::<u64>()]
}

pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9._-]{0,30}",
        "[\\PC]{1,20}".prop_filter("1..=255 bytes", |s| !s.is_empty() && s.len() <= 255),
    ]
}

pub fn reason() -> impl Strategy<Value = String> {
    prop_oneof!["[\\PC]{0,40}", Just("x".repeat(4096))]
}

pub fn outcome() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
        Just(Some(vec![0xAB; 64 * 1024])),
    ]
}

pub fn event() -> impl Strategy<Value = GroupEvent> {
    prop_oneof![
        (group_id(), name(), wide_u64()).prop_map(|(group, name, start_offset)| {
            GroupEvent::GroupCreated {
                group,
                name,
                start_offset,
            }
        }),
        group_id().prop_map(|group| GroupEvent::GroupDeleted { group }),
        (group_id(), wide_u64(), wide_u64(), any::<u32>(), wide_u64()).prop_map(
            |(group, offset, consumer_id, attempt, deadline_ms)| GroupEvent::Delivered {
                group,
                offset,
                consumer_id,
                attempt,
                deadline_ms,
            }
        ),
        (group_id(), wide_u64(), wide_u64()).prop_map(|(group, offset, deadline_ms)| {
            GroupEvent::Extended {
                group,
                offset,
                deadline_ms,
            }
        }),
        (group_id(), wide_u64(), outcome()).prop_map(|(group, offset, outcome)| {
            GroupEvent::Acked {
                group,
                offset,
                outcome,
            }
        }),
        (group_id(), wide_u64())
            .prop_map(|(group, next_offset)| GroupEvent::AckedThrough { group, next_offset }),
        (group_id(), wide_u64(), wide_u64()).prop_map(|(group, offset, not_before_ms)| {
            GroupEvent::Nacked {
                group,
                offset,
                not_before_ms,
            }
        }),
        (group_id(), wide_u64()).prop_map(|(group, offset)| GroupEvent::Released { group, offset }),
        (group_id(), wide_u64(), reason()).prop_map(|(group, offset, reason)| {
            GroupEvent::DeadLettered {
                group,
                offset,
                reason,
            }
        }),
        (group_id(), wide_u64()).prop_map(|(group, next_offset)| {
            GroupEvent::OutcomesForgotten { group, next_offset }
        }),
    ]
}

fn lease() -> impl Strategy<Value = Lease> {
    (wide_u64(), wide_u64(), any::<u32>()).prop_map(|(consumer_id, deadline_ms, attempt)| Lease {
        consumer_id,
        deadline_ms,
        attempt,
    })
}

/// Any layout-valid checkpoint (its meaning is not checked by the codec).
pub fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    let lists = (
        prop::collection::vec((wide_u64(), wide_u64()).prop_map(|(a, b)| a..b), 0..8),
        prop::collection::vec((wide_u64(), lease()), 0..8),
        prop::collection::vec((wide_u64(), any::<u32>()), 0..8),
        prop::collection::vec((wide_u64(), wide_u64()), 0..8),
        prop::collection::vec((wide_u64(), "[\\PC]{0,12}"), 0..8),
        prop::collection::vec((wide_u64(), wide_u64().prop_map(OutcomeRef)), 0..8),
    );
    (group_id(), name(), wide_u64(), wide_u64(), lists).prop_map(
        |(group, name, floor, next_to_deliver, lists)| {
            let (settled_ranges, leases, attempts, delays, dead, outcomes) = lists;
            Checkpoint {
                group,
                name,
                floor,
                next_to_deliver,
                settled_ranges,
                leases,
                attempts,
                delays,
                dead,
                outcomes,
            }
        },
    )
}
