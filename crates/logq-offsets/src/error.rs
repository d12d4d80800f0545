//! Typed errors of the consumer-group state, the group container and the codecs.
//!
//! Every error names the offset (or byte position) it is about, so a caller can log it or
//! return it to a client without extra context. All enums are `#[non_exhaustive]`.

use crate::GroupId;

/// A state change on one [`GroupState`](crate::GroupState) was refused.
///
/// Refusals leave the state untouched: every operation validates first and mutates after.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The configuration cannot work (a zero limit).
    #[error("invalid group configuration: {reason}")]
    InvalidConfig {
        /// Which rule was broken.
        reason: &'static str,
    },
    /// `u64::MAX` is not a valid offset (it is the exclusive end of the offset space).
    #[error("offset {offset} is outside the offset space")]
    OffsetOutOfRange {
        /// The offending offset.
        offset: u64,
    },
    /// The offset is already acknowledged.
    #[error("offset {offset} is already acknowledged")]
    AlreadyAcked {
        /// The offset.
        offset: u64,
    },
    /// The offset was dead-lettered; it can be neither delivered nor acknowledged.
    #[error("offset {offset} is dead-lettered")]
    DeadLettered {
        /// The offset.
        offset: u64,
    },
    /// The offset is leased to a consumer and the lease has not expired.
    #[error("offset {offset} is leased to consumer {consumer_id} until {deadline_ms} ms")]
    AlreadyLeased {
        /// The offset.
        offset: u64,
        /// The consumer holding the lease.
        consumer_id: u64,
        /// When the lease expires.
        deadline_ms: u64,
    },
    /// The operation needs a lease on the offset and there is none.
    #[error("offset {offset} is not leased")]
    NotLeased {
        /// The offset.
        offset: u64,
    },
    /// The lease expired at or before the given time; it can no longer be extended.
    #[error("lease on offset {offset} expired at {deadline_ms} ms")]
    LeaseExpired {
        /// The offset.
        offset: u64,
        /// When the lease expired.
        deadline_ms: u64,
    },
    /// The lease belongs to another consumer.
    #[error("offset {offset} is leased to consumer {holder_id}, not {requester_id}")]
    WrongConsumer {
        /// The offset.
        offset: u64,
        /// The consumer holding the lease.
        holder_id: u64,
        /// The consumer that asked.
        requester_id: u64,
    },
    /// The offset was negatively acknowledged and may not be delivered before `until_ms`.
    #[error("offset {offset} is delayed until {until_ms} ms")]
    Delayed {
        /// The offset.
        offset: u64,
        /// The earliest time it may be delivered again.
        until_ms: u64,
    },
    /// First deliveries happen in offset order; this offset is beyond the delivery cursor.
    #[error("offset {offset} is beyond the next offset to deliver ({next_to_deliver})")]
    NotReached {
        /// The offset.
        offset: u64,
        /// The lowest never-delivered offset.
        next_to_deliver: u64,
    },
    /// The offset was delivered `max_deliveries` times; it must be dead-lettered.
    #[error("offset {offset} reached its delivery limit after {attempts} attempts")]
    DeliveryLimitReached {
        /// The offset.
        offset: u64,
        /// Deliveries so far.
        attempts: u32,
    },
    /// `max_in_flight` unexpired leases are outstanding.
    #[error("{in_flight} deliveries are in flight, the limit")]
    InFlightLimitReached {
        /// Unexpired leases.
        in_flight: u64,
    },
    /// A dead-letter reason is longer than [`REASON_BYTES_MAX`](crate::REASON_BYTES_MAX).
    #[error("dead-letter reason of {len} bytes exceeds the maximum of {max}")]
    ReasonTooLong {
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: u32,
    },
    /// A replayed delivery does not carry the next attempt number.
    #[error("offset {offset}: delivery attempt {found} recorded, {expected} expected")]
    AttemptMismatch {
        /// The offset.
        offset: u64,
        /// The attempt number that follows the recorded count.
        expected: u32,
        /// The attempt number in the event.
        found: u32,
    },
    /// An acknowledgement with outcome bytes was applied without an outcome locator, or
    /// a locator was given for an event without outcome bytes.
    #[error("offset {offset}: outcome locator {reason}")]
    OutcomeRefMismatch {
        /// The offset.
        offset: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// The event creates or deletes a group; apply it to [`Groups`](crate::Groups).
    #[error("event {event} does not apply to a single group's state")]
    NotAGroupEvent {
        /// The event's name.
        event: &'static str,
    },
    /// A checkpoint or state broke an invariant (see the module docs of `group_state`).
    #[error("inconsistent group state: {what}")]
    Inconsistent {
        /// Which invariant.
        what: &'static str,
    },
}

/// A change to the set of groups was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupsError {
    /// A group of that name exists.
    #[error("group {name:?} already exists")]
    GroupExists {
        /// The name.
        name: String,
    },
    /// A group of that id exists (replaying a creation twice).
    #[error("group id {group} already exists")]
    GroupIdExists {
        /// The id.
        group: GroupId,
    },
    /// No group has that name.
    #[error("no group named {name:?}")]
    UnknownGroup {
        /// The name.
        name: String,
    },
    /// No group has that id.
    #[error("no group with id {group}")]
    UnknownGroupId {
        /// The id.
        group: GroupId,
    },
    /// A group name is empty or longer than [`GROUP_NAME_BYTES_MAX`](crate::GROUP_NAME_BYTES_MAX).
    #[error("group name of {len} bytes is not within 1..={max}")]
    BadName {
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: u32,
    },
    /// All `u32` group ids were handed out.
    #[error("no group ids left")]
    IdsExhausted,
    /// The group refused the change.
    #[error("group {group}: {source}")]
    Group {
        /// The group.
        group: GroupId,
        /// Why.
        #[source]
        source: GroupError,
    },
}

/// A value cannot be encoded within the documented limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A byte string or list is longer than its maximum.
    #[error("{field} has length {len}, the maximum is {max}")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length (bytes for strings, entries for lists).
        len: u64,
        /// The maximum.
        max: u64,
    },
    /// A field holds a value that cannot be encoded.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Bytes do not form a valid record. `at` is always the byte position within the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The record ended before a field.
    #[error("at byte {at}: expected {expected} ({needed} bytes), only {remaining} left")]
    Truncated {
        /// Byte position of the field.
        at: usize,
        /// What was expected there.
        expected: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the record.
        remaining: usize,
    },
    /// The tag (first) byte names no known event or version.
    #[error("at byte {at}: unknown {expected} tag {tag:#04x}")]
    UnknownTag {
        /// Byte position of the tag.
        at: usize,
        /// What kind of tag was expected.
        expected: &'static str,
        /// The byte found.
        tag: u8,
    },
    /// A length or count exceeds the documented maximum for its field.
    #[error("at byte {at}: {field} length {len} exceeds the maximum of {max}")]
    TooLong {
        /// Byte position of the length field.
        at: usize,
        /// Which field.
        field: &'static str,
        /// The length found.
        len: u64,
        /// The maximum.
        max: u64,
    },
    /// A field holds a value outside its domain (a flag that is not 0 or 1, bad UTF-8).
    #[error("at byte {at}: invalid {field}: {reason}")]
    Invalid {
        /// Byte position of the field.
        at: usize,
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Bytes remain after the last field.
    #[error("at byte {at}: {remaining} trailing bytes after the record")]
    TrailingBytes {
        /// Byte position where the record should have ended.
        at: usize,
        /// Bytes left over.
        remaining: usize,
    },
}
