//! Journal events: one per state change of a group, and their binary encoding.
//!
//! Layout (see `docs/FORMAT.md` §5; all integers little-endian): one tag byte, the group id
//! (`u32`), then the fields of the variant in declaration order, fixed width; byte strings
//! are a `u32` length then the bytes. Tag 0 is never used, so a zero-filled record is
//! rejected. Decoding checks every length against the bytes left and the maximum of its
//! field before allocating, rejects unknown tags and trailing bytes, and allocates at most
//! the length of the input.

use crate::codec::{Reader, Writer};
use crate::{DecodeError, EncodeError, GroupId, REASON_BYTES_MAX};

/// The most bytes of outcome an acknowledgement may carry.
pub const OUTCOME_BYTES_MAX: u32 = 64 * 1024;
/// The most bytes a group name may have (at least 1).
pub const GROUP_NAME_BYTES_MAX: u32 = 255;

// Tags (byte 0 of every event record). 0 is reserved: zero-filled bytes never decode.
const TAG_GROUP_CREATED: u8 = 0x01;
const TAG_GROUP_DELETED: u8 = 0x02;
const TAG_DELIVERED: u8 = 0x03;
const TAG_EXTENDED: u8 = 0x04;
const TAG_ACKED: u8 = 0x05;
const TAG_ACKED_THROUGH: u8 = 0x06;
const TAG_NACKED: u8 = 0x07;
const TAG_RELEASED: u8 = 0x08;
const TAG_DEAD_LETTERED: u8 = 0x09;
const TAG_OUTCOMES_FORGOTTEN: u8 = 0x0A;

// Fixed record sizes: tag (1) + group (4) + fields.
const HEADER_BYTES: usize = 1 + 4;
const DELIVERED_BYTES: usize = HEADER_BYTES + 8 + 8 + 4 + 8;
const _: () = assert!(DELIVERED_BYTES == 33);

/// One state change of a consumer group, as journalled. Replaying the events of a group in
/// order through [`GroupState::apply`](crate::GroupState::apply) (and the group creations
/// and deletions through [`Groups::apply`](crate::Groups::apply)) rebuilds its state.
///
/// The persistence layer journals one event per successful operation on
/// [`GroupState`](crate::GroupState):
///
/// | operation | event |
/// |---|---|
/// | `deliver` → `lease` | `Delivered { offset, consumer_id, attempt, deadline_ms }` from the lease |
/// | `extend` → `lease` | `Extended { offset, deadline_ms: lease.deadline_ms }` |
/// | `ack` → `true` | `Acked { offset, outcome: None }` (nothing when `false`) |
/// | `ack_with_outcome` | journalled *first*: if `check_ack` → `true`, append `Acked { offset, outcome: Some(bytes) }`, then call `ack_with_outcome(offset, OutcomeRef(position))` |
/// | `ack_through(n)` → `> 0` | `AckedThrough { next_offset: n }` |
/// | `nack` → `not_before_ms` | `Nacked { offset, not_before_ms }` |
/// | `release` | `Released { offset }` |
/// | `dead_letter` | `DeadLettered { offset, reason }` |
/// | `forget_outcomes_below(n)` → `> 0` | `OutcomesForgotten { next_offset: n }` |
///
/// ```
/// use logq_offsets::{GroupEvent, GroupId};
/// let event = GroupEvent::Acked { group: GroupId(1), offset: 42, outcome: Some(b"ok".to_vec()) };
/// let bytes = event.to_bytes().unwrap();
/// assert_eq!(bytes.len(), 1 + 4 + 8 + 1 + 4 + 2);
/// assert_eq!(GroupEvent::decode(&bytes).unwrap(), event);
/// assert!(GroupEvent::decode(&bytes[..bytes.len() - 1]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupEvent {
    /// A group was created; offsets below `start_offset` count as acknowledged.
    GroupCreated {
        /// Its id.
        group: GroupId,
        /// Its name, 1 to [`GROUP_NAME_BYTES_MAX`] bytes of UTF-8.
        name: String,
        /// Its first offset to deliver.
        start_offset: u64,
    },
    /// A group was deleted with all its state.
    GroupDeleted {
        /// Its id.
        group: GroupId,
    },
    /// `offset` was leased to `consumer_id` as delivery number `attempt`.
    Delivered {
        /// The group.
        group: GroupId,
        /// The offset.
        offset: u64,
        /// The consumer.
        consumer_id: u64,
        /// Which delivery (1 for the first).
        attempt: u32,
        /// When the lease expires.
        deadline_ms: u64,
    },
    /// The lease on `offset` now ends at `deadline_ms`.
    Extended {
        /// The group.
        group: GroupId,
        /// The offset.
        offset: u64,
        /// The new deadline.
        deadline_ms: u64,
    },
    /// `offset` was acknowledged, with outcome bytes (at most [`OUTCOME_BYTES_MAX`]) stored
    /// inline; the position of this record becomes the [`OutcomeRef`](crate::OutcomeRef).
    Acked {
        /// The group.
        group: GroupId,
        /// The offset.
        offset: u64,
        /// The outcome bytes, if any.
        outcome: Option<Vec<u8>>,
    },
    /// Every offset strictly below `next_offset` was acknowledged.
    AckedThrough {
        /// The group.
        group: GroupId,
        /// The first offset *not* acknowledged by this event.
        next_offset: u64,
    },
    /// The lease on `offset` was dropped; no redelivery before `not_before_ms`.
    Nacked {
        /// The group.
        group: GroupId,
        /// The offset.
        offset: u64,
        /// The earliest redelivery time.
        not_before_ms: u64,
    },
    /// The lease on `offset` was dropped; redeliverable at once.
    Released {
        /// The group.
        group: GroupId,
        /// The offset.
        offset: u64,
    },
    /// `offset` was moved to the dead-letter queue.
    DeadLettered {
        /// The group.
        group: GroupId,
        /// The offset.
        offset: u64,
        /// Why, at most [`REASON_BYTES_MAX`] bytes of UTF-8.
        reason: String,
    },
    /// Outcome locators of offsets strictly below `next_offset` were dropped.
    OutcomesForgotten {
        /// The group.
        group: GroupId,
        /// The first offset whose locator is kept.
        next_offset: u64,
    },
}

impl GroupEvent {
    /// The group the event belongs to.
    pub fn group(&self) -> GroupId {
        match *self {
            Self::GroupCreated { group, .. }
            | Self::GroupDeleted { group }
            | Self::Delivered { group, .. }
            | Self::Extended { group, .. }
            | Self::Acked { group, .. }
            | Self::AckedThrough { group, .. }
            | Self::Nacked { group, .. }
            | Self::Released { group, .. }
            | Self::DeadLettered { group, .. }
            | Self::OutcomesForgotten { group, .. } => group,
        }
    }

    /// Appends the encoding to `out`. Fails (appending nothing) if a byte string exceeds
    /// its maximum.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.write(&mut Writer { out });
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// The encoding as a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(DELIVERED_BYTES);
        self.encode_into(&mut out)?;
        Ok(out)
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let (tag, group) = (self.tag(), self.group());
        w.u8(tag);
        w.u32(group.0);
        match self {
            Self::GroupCreated {
                name, start_offset, ..
            } => {
                if name.is_empty() {
                    return Err(EncodeError::Invalid {
                        field: "group name",
                        reason: "empty",
                    });
                }
                w.u64(*start_offset);
                w.bytes("group name", name.as_bytes(), GROUP_NAME_BYTES_MAX)?;
            }
            Self::GroupDeleted { .. } => {}
            Self::Delivered {
                offset,
                consumer_id,
                attempt,
                deadline_ms,
                ..
            } => {
                w.u64(*offset);
                w.u64(*consumer_id);
                w.u32(*attempt);
                w.u64(*deadline_ms);
            }
            Self::Extended {
                offset,
                deadline_ms,
                ..
            } => {
                w.u64(*offset);
                w.u64(*deadline_ms);
            }
            Self::Acked {
                offset, outcome, ..
            } => {
                w.u64(*offset);
                match outcome {
                    None => w.u8(0),
                    Some(bytes) => {
                        w.u8(1);
                        w.bytes("outcome", bytes, OUTCOME_BYTES_MAX)?;
                    }
                }
            }
            Self::AckedThrough { next_offset, .. }
            | Self::OutcomesForgotten { next_offset, .. } => w.u64(*next_offset),
            Self::Nacked {
                offset,
                not_before_ms,
                ..
            } => {
                w.u64(*offset);
                w.u64(*not_before_ms);
            }
            Self::Released { offset, .. } => w.u64(*offset),
            Self::DeadLettered { offset, reason, .. } => {
                w.u64(*offset);
                w.bytes("reason", reason.as_bytes(), REASON_BYTES_MAX)?;
            }
        }
        Ok(())
    }

    fn tag(&self) -> u8 {
        match self {
            Self::GroupCreated { .. } => TAG_GROUP_CREATED,
            Self::GroupDeleted { .. } => TAG_GROUP_DELETED,
            Self::Delivered { .. } => TAG_DELIVERED,
            Self::Extended { .. } => TAG_EXTENDED,
            Self::Acked { .. } => TAG_ACKED,
            Self::AckedThrough { .. } => TAG_ACKED_THROUGH,
            Self::Nacked { .. } => TAG_NACKED,
            Self::Released { .. } => TAG_RELEASED,
            Self::DeadLettered { .. } => TAG_DEAD_LETTERED,
            Self::OutcomesForgotten { .. } => TAG_OUTCOMES_FORGOTTEN,
        }
    }

    /// Decodes exactly one event from `bytes` (the whole record).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let tag_at = r.position();
        let tag = r.u8("event tag")?;
        if !(TAG_GROUP_CREATED..=TAG_OUTCOMES_FORGOTTEN).contains(&tag) {
            return Err(DecodeError::UnknownTag {
                at: tag_at,
                expected: "event",
                tag,
            });
        }
        let group = GroupId(r.u32("group id")?);
        let event = match tag {
            TAG_GROUP_CREATED => {
                let start_offset = r.u64("start offset")?;
                let at = r.position();
                let name = r.string("group name", GROUP_NAME_BYTES_MAX)?;
                if name.is_empty() {
                    return Err(DecodeError::Invalid {
                        at,
                        field: "group name",
                        reason: "empty",
                    });
                }
                Self::GroupCreated {
                    group,
                    name,
                    start_offset,
                }
            }
            TAG_GROUP_DELETED => Self::GroupDeleted { group },
            TAG_DELIVERED => Self::Delivered {
                group,
                offset: r.u64("offset")?,
                consumer_id: r.u64("consumer id")?,
                attempt: r.u32("attempt")?,
                deadline_ms: r.u64("deadline")?,
            },
            TAG_EXTENDED => Self::Extended {
                group,
                offset: r.u64("offset")?,
                deadline_ms: r.u64("deadline")?,
            },
            TAG_ACKED => {
                let offset = r.u64("offset")?;
                let outcome = if r.flag("outcome flag")? {
                    Some(r.bytes("outcome", OUTCOME_BYTES_MAX)?.to_vec())
                } else {
                    None
                };
                Self::Acked {
                    group,
                    offset,
                    outcome,
                }
            }
            TAG_ACKED_THROUGH => Self::AckedThrough {
                group,
                next_offset: r.u64("next offset")?,
            },
            TAG_NACKED => Self::Nacked {
                group,
                offset: r.u64("offset")?,
                not_before_ms: r.u64("not-before time")?,
            },
            TAG_RELEASED => Self::Released {
                group,
                offset: r.u64("offset")?,
            },
            TAG_DEAD_LETTERED => Self::DeadLettered {
                group,
                offset: r.u64("offset")?,
                reason: r.string("reason", REASON_BYTES_MAX)?,
            },
            _ => Self::OutcomesForgotten {
                group,
                next_offset: r.u64("next offset")?,
            },
        };
        r.finish()?;
        Ok(event)
    }
}
