//! Event and checkpoint codecs: round trips, truncation, trailing bytes, garbage.

mod support;

use logq_offsets::{
    Checkpoint, DecodeError, EncodeError, GroupEvent, GroupId, GROUP_NAME_BYTES_MAX,
    OUTCOME_BYTES_MAX, REASON_BYTES_MAX,
};
use proptest::prelude::*;
use support::{checkpoint, event};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn events_round_trip(event in event()) {
        let bytes = event.to_bytes().unwrap();
        prop_assert_eq!(GroupEvent::decode(&bytes).unwrap(), event);
    }

    #[test]
    fn truncated_events_are_rejected(event in event()) {
        let bytes = event.to_bytes().unwrap();
        // Outcomes of 64 KiB make every prefix too slow to try: sample them.
        let step = (bytes.len() / 256).max(1);
        for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
            let error = GroupEvent::decode(&bytes[..len]).unwrap_err();
            prop_assert!(matches!(error, DecodeError::Truncated { .. }), "{len}: {error}");
        }
    }

    #[test]
    fn trailing_bytes_are_rejected(event in event(), extra in prop::collection::vec(any::<u8>(), 1..4)) {
        let mut bytes = event.to_bytes().unwrap();
        let end = bytes.len();
        bytes.extend_from_slice(&extra);
        let error = GroupEvent::decode(&bytes).unwrap_err();
        prop_assert_eq!(error, DecodeError::TrailingBytes { at: end, remaining: extra.len() });
    }

    #[test]
    fn checkpoints_round_trip(checkpoint in checkpoint()) {
        let bytes = checkpoint.to_bytes().unwrap();
        prop_assert_eq!(Checkpoint::decode(&bytes).unwrap(), checkpoint);
    }

    #[test]
    fn truncated_checkpoints_are_rejected(checkpoint in checkpoint()) {
        let mut bytes = checkpoint.to_bytes().unwrap();
        for len in 0..bytes.len() {
            prop_assert!(Checkpoint::decode(&bytes[..len]).is_err(), "prefix of {} bytes", len);
        }
        bytes.push(0);
        let trailing = matches!(
            Checkpoint::decode(&bytes),
            Err(DecodeError::TrailingBytes { remaining: 1, .. })
        );
        prop_assert!(trailing, "one trailing byte must be reported");
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = GroupEvent::decode(&bytes);
        let _ = Checkpoint::decode(&bytes);
    }

    #[test]
    fn garbage_after_a_valid_tag_never_panics(
        tag in 0u8..12,
        rest in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = vec![tag];
        bytes.extend_from_slice(&rest);
        if let Ok(event) = GroupEvent::decode(&bytes) {
            // Whatever decodes must encode back to the same bytes.
            prop_assert_eq!(event.to_bytes().unwrap(), bytes.clone());
        }
        bytes[0] = 1; // checkpoint version
        if let Ok(checkpoint) = Checkpoint::decode(&bytes) {
            prop_assert_eq!(checkpoint.to_bytes().unwrap(), bytes);
        }
    }

    #[test]
    fn flipped_bytes_never_panic(event in event(), checkpoint in checkpoint(), index in any::<usize>(), flip in 1u8..) {
        let mut bytes = event.to_bytes().unwrap();
        let i = index % bytes.len();
        bytes[i] ^= flip;
        let _ = GroupEvent::decode(&bytes);
        let mut bytes = checkpoint.to_bytes().unwrap();
        let i = index % bytes.len();
        bytes[i] ^= flip;
        let _ = Checkpoint::decode(&bytes);
    }
}

fn le32(value: u32) -> [u8; 4] {
    value.to_le_bytes()
}

#[test]
fn delivered_layout_is_fixed() {
    let event = GroupEvent::Delivered {
        group: GroupId(0x0102_0304),
        offset: 5,
        consumer_id: 6,
        attempt: 7,
        deadline_ms: 8,
    };
    let mut expected = vec![0x03, 4, 3, 2, 1];
    expected.extend_from_slice(&5u64.to_le_bytes());
    expected.extend_from_slice(&6u64.to_le_bytes());
    expected.extend_from_slice(&7u32.to_le_bytes());
    expected.extend_from_slice(&8u64.to_le_bytes());
    assert_eq!(event.to_bytes().unwrap(), expected);
}

#[test]
fn unknown_and_zero_tags_are_rejected() {
    for tag in [0u8, 0x0B, 0xFF] {
        let mut bytes = vec![tag, 0, 0, 0, 0];
        bytes.extend_from_slice(&[0; 8]);
        assert_eq!(
            GroupEvent::decode(&bytes),
            Err(DecodeError::UnknownTag {
                at: 0,
                expected: "event",
                tag
            })
        );
    }
    assert!(matches!(
        Checkpoint::decode(&[0; 64]),
        Err(DecodeError::UnknownTag { at: 0, tag: 0, .. })
    ));
    assert!(matches!(
        GroupEvent::decode(&[]),
        Err(DecodeError::Truncated { at: 0, .. })
    ));
}

#[test]
fn lengths_above_the_maximum_are_refused_before_reading() {
    // An Acked event claiming an outcome of max + 1 bytes, with only 3 bytes present.
    let mut bytes = vec![0x05, 1, 0, 0, 0];
    bytes.extend_from_slice(&9u64.to_le_bytes());
    bytes.push(1);
    let length_at = bytes.len();
    bytes.extend_from_slice(&le32(OUTCOME_BYTES_MAX + 1));
    bytes.extend_from_slice(b"abc");
    assert_eq!(
        GroupEvent::decode(&bytes),
        Err(DecodeError::TooLong {
            at: length_at,
            field: "outcome",
            len: u64::from(OUTCOME_BYTES_MAX) + 1,
            max: u64::from(OUTCOME_BYTES_MAX),
        })
    );
    // A length within the maximum but beyond the record is a truncation, found before
    // allocating.
    let mut bytes = bytes[..length_at].to_vec();
    bytes.extend_from_slice(&le32(1000));
    bytes.extend_from_slice(b"abc");
    assert!(matches!(
        GroupEvent::decode(&bytes),
        Err(DecodeError::Truncated {
            needed: 1000,
            remaining: 3,
            ..
        })
    ));
}

#[test]
fn a_huge_checkpoint_count_is_refused_before_allocating() {
    let checkpoint = Checkpoint {
        name: "g".into(),
        ..Checkpoint::default()
    };
    let mut bytes = checkpoint.to_bytes().unwrap();
    // The settled-ranges count follows version, group, name and two u64s.
    let count_at = 1 + 4 + 4 + 1 + 8 + 8;
    bytes[count_at..count_at + 4].copy_from_slice(&le32(u32::MAX));
    assert!(matches!(
        Checkpoint::decode(&bytes),
        Err(DecodeError::Truncated { at, .. }) if at == count_at + 4
    ));
}

#[test]
fn bad_flags_and_utf8_are_invalid() {
    let mut bytes = vec![0x05, 1, 0, 0, 0];
    bytes.extend_from_slice(&9u64.to_le_bytes());
    bytes.push(2);
    assert!(matches!(
        GroupEvent::decode(&bytes),
        Err(DecodeError::Invalid {
            at: 13,
            field: "outcome flag",
            ..
        })
    ));
    let mut bytes = vec![0x09, 1, 0, 0, 0];
    bytes.extend_from_slice(&9u64.to_le_bytes());
    bytes.extend_from_slice(&le32(2));
    bytes.extend_from_slice(&[0xC3, 0x28]);
    assert!(matches!(
        GroupEvent::decode(&bytes),
        Err(DecodeError::Invalid {
            field: "reason",
            reason: "not UTF-8",
            ..
        })
    ));
}

#[test]
fn oversized_fields_cannot_be_encoded() {
    let group = GroupId(1);
    let too_big = GroupEvent::Acked {
        group,
        offset: 0,
        outcome: Some(vec![0; 64 * 1024 + 1]),
    };
    assert!(matches!(
        too_big.to_bytes(),
        Err(EncodeError::TooLong {
            field: "outcome",
            ..
        })
    ));
    let reason = "r".repeat(usize::try_from(REASON_BYTES_MAX).unwrap() + 1);
    let mut out = vec![7];
    let too_long = GroupEvent::DeadLettered {
        group,
        offset: 0,
        reason,
    };
    assert!(too_long.encode_into(&mut out).is_err());
    assert_eq!(out, vec![7], "a failed encoding appends nothing");
    let name = "n".repeat(usize::try_from(GROUP_NAME_BYTES_MAX).unwrap() + 1);
    let created = GroupEvent::GroupCreated {
        group,
        name,
        start_offset: 0,
    };
    assert!(created.to_bytes().is_err());
    let unnamed = GroupEvent::GroupCreated {
        group,
        name: String::new(),
        start_offset: 0,
    };
    assert!(matches!(
        unnamed.to_bytes(),
        Err(EncodeError::Invalid {
            field: "group name",
            ..
        })
    ));
}
