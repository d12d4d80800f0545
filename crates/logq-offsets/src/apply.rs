//! Applying journal events to a [`GroupState`]: the one code path through which every change,
//! live or replayed, passes. Each applier checks that the event fits the recorded state and
//! changes nothing when it does not.

use crate::{GroupError, GroupEvent, GroupState, Lease, OutcomeRef, REASON_BYTES_MAX};

impl GroupState {
    /// Applies one journal event, as replay does; `outcome_ref` must be `Some` exactly for an
    /// `Acked` event carrying outcome bytes (the locator of those bytes).
    ///
    /// Checks that the event fits the state (no delivery of a settled offset, attempts in
    /// sequence, leases present where needed) but not the clock or the consumer: those were
    /// checked when the event was first made. An `Acked` event for an offset already
    /// acknowledged changes nothing. On error the state is unchanged.
    pub fn apply(
        &mut self,
        event: &GroupEvent,
        outcome_ref: Option<OutcomeRef>,
    ) -> Result<(), GroupError> {
        if let GroupEvent::Acked {
            offset, outcome, ..
        } = event
        {
            if outcome.is_some() != outcome_ref.is_some() {
                return Err(GroupError::OutcomeRefMismatch {
                    offset: *offset,
                    reason: if outcome.is_some() {
                        "missing for an ack with outcome bytes"
                    } else {
                        "given for an ack without outcome bytes"
                    },
                });
            }
        } else if outcome_ref.is_some() {
            return Err(GroupError::OutcomeRefMismatch {
                offset: 0,
                reason: "given for an event that is not an ack",
            });
        }
        match *event {
            GroupEvent::Delivered {
                offset,
                consumer_id,
                attempt,
                deadline_ms,
                ..
            } => {
                let lease = Lease {
                    consumer_id,
                    deadline_ms,
                    attempt,
                };
                self.apply_delivered(offset, lease)
            }
            GroupEvent::Extended {
                offset,
                deadline_ms,
                ..
            } => self.apply_extended(offset, deadline_ms),
            GroupEvent::Acked { offset, .. } => self.apply_acked(offset, outcome_ref).map(drop),
            GroupEvent::AckedThrough { next_offset, .. } => {
                self.apply_acked_through(next_offset);
                Ok(())
            }
            GroupEvent::Nacked {
                offset,
                not_before_ms,
                ..
            } => self.apply_nacked(offset, not_before_ms),
            GroupEvent::Released { offset, .. } => self.apply_released(offset),
            GroupEvent::DeadLettered {
                offset, ref reason, ..
            } => self.apply_dead_lettered(offset, reason),
            GroupEvent::OutcomesForgotten { next_offset, .. } => {
                self.apply_outcomes_forgotten(next_offset);
                Ok(())
            }
            GroupEvent::GroupCreated { .. } => Err(GroupError::NotAGroupEvent {
                event: "GroupCreated",
            }),
            GroupEvent::GroupDeleted { .. } => Err(GroupError::NotAGroupEvent {
                event: "GroupDeleted",
            }),
        }
    }

    pub(crate) fn check_unsettled(&self, offset: u64) -> Result<(), GroupError> {
        if offset == u64::MAX {
            return Err(GroupError::OffsetOutOfRange { offset });
        }
        if self.dead.contains_key(&offset) {
            return Err(GroupError::DeadLettered { offset });
        }
        if self.settled.contains(offset) {
            return Err(GroupError::AlreadyAcked { offset });
        }
        Ok(())
    }

    pub(crate) fn apply_delivered(&mut self, offset: u64, lease: Lease) -> Result<(), GroupError> {
        self.check_unsettled(offset)?;
        if offset > self.next_to_deliver {
            return Err(GroupError::NotReached {
                offset,
                next_to_deliver: self.next_to_deliver,
            });
        }
        let expected = self.attempts(offset).saturating_add(1);
        if lease.attempt != expected {
            return Err(GroupError::AttemptMismatch {
                offset,
                expected,
                found: lease.attempt,
            });
        }
        self.detach(offset);
        self.delays.remove(&offset);
        self.leases.insert(offset, lease);
        self.attempts.insert(offset, lease.attempt);
        self.schedule(lease.deadline_ms, offset);
        if offset == self.next_to_deliver {
            self.next_to_deliver = self.settled.first_absent_at_or_after(offset + 1);
        }
        Ok(())
    }

    pub(crate) fn apply_extended(
        &mut self,
        offset: u64,
        deadline_ms: u64,
    ) -> Result<(), GroupError> {
        let Some(&lease) = self.leases.get(&offset) else {
            return Err(GroupError::NotLeased { offset });
        };
        self.detach(offset);
        self.leases.insert(
            offset,
            Lease {
                deadline_ms,
                ..lease
            },
        );
        self.schedule(deadline_ms, offset);
        Ok(())
    }

    /// Returns whether the offset was newly acknowledged.
    pub(crate) fn apply_acked(
        &mut self,
        offset: u64,
        outcome_ref: Option<OutcomeRef>,
    ) -> Result<bool, GroupError> {
        match self.check_unsettled(offset) {
            Err(GroupError::AlreadyAcked { .. }) => return Ok(false),
            other => other?,
        }
        self.forget_delivery(offset);
        self.settled.insert(offset);
        if let Some(outcome_ref) = outcome_ref {
            self.outcomes.insert(offset, outcome_ref);
        }
        self.advance_cursor();
        Ok(true)
    }

    /// Returns how many offsets were newly acknowledged.
    pub(crate) fn apply_acked_through(&mut self, next_offset: u64) -> u64 {
        let delivered: Vec<u64> = self
            .attempts
            .range(..next_offset)
            .map(|(&o, _)| o)
            .collect();
        for offset in delivered {
            self.forget_delivery(offset);
        }
        let added = self.settled.insert_range(0..next_offset);
        self.advance_cursor();
        added
    }

    pub(crate) fn apply_nacked(
        &mut self,
        offset: u64,
        not_before_ms: u64,
    ) -> Result<(), GroupError> {
        if !self.leases.contains_key(&offset) {
            return Err(GroupError::NotLeased { offset });
        }
        self.detach(offset);
        self.leases.remove(&offset);
        self.delays.insert(offset, not_before_ms);
        self.schedule(not_before_ms, offset);
        Ok(())
    }

    pub(crate) fn apply_released(&mut self, offset: u64) -> Result<(), GroupError> {
        if !self.leases.contains_key(&offset) {
            return Err(GroupError::NotLeased { offset });
        }
        self.detach(offset);
        self.leases.remove(&offset);
        self.make_ready(offset);
        Ok(())
    }

    pub(crate) fn apply_dead_lettered(
        &mut self,
        offset: u64,
        reason: &str,
    ) -> Result<(), GroupError> {
        self.check_unsettled(offset)?;
        if crate::exceeds(reason.len(), REASON_BYTES_MAX) {
            return Err(GroupError::ReasonTooLong {
                len: reason.len(),
                max: REASON_BYTES_MAX,
            });
        }
        self.forget_delivery(offset);
        self.settled.insert(offset);
        self.dead.insert(offset, reason.to_owned());
        self.advance_cursor();
        Ok(())
    }

    /// Returns how many locators were dropped.
    pub(crate) fn apply_outcomes_forgotten(&mut self, next_offset: u64) -> usize {
        let kept = self.outcomes.split_off(&next_offset);
        let dropped = std::mem::replace(&mut self.outcomes, kept);
        dropped.len()
    }

    /// Drops every trace of a delivery of `offset` (before it is settled).
    pub(crate) fn forget_delivery(&mut self, offset: u64) {
        self.detach(offset);
        self.leases.remove(&offset);
        self.delays.remove(&offset);
        self.attempts.remove(&offset);
    }

    pub(crate) fn advance_cursor(&mut self) {
        self.next_to_deliver = self.settled.first_absent_at_or_after(self.next_to_deliver);
    }
}
