//! The live operations of a [`GroupState`]: choose, deliver, extend, acknowledge, reject,
//! release and dead-letter offsets.
//!
//! Each operation validates (including the clock and the consumer), then changes the state
//! through the same code as [`GroupState::apply`], so a live state and one rebuilt by
//! replaying the journal cannot drift apart. The persistence layer journals one event per
//! successful operation (the mapping is tabled on [`GroupEvent`](crate::GroupEvent)).

use crate::{GroupError, GroupState, GroupStats, Lease, OutcomeRef};

impl GroupState {
    /// The lowest offset below `log_end` that may be delivered at `now_ms`, or `None` when
    /// nothing is deliverable or `max_in_flight` unexpired leases are outstanding.
    ///
    /// Deliverable means: not settled, not leased (or leased with `deadline_ms <= now_ms`),
    /// not delayed past `now_ms`, and delivered fewer than `max_deliveries` times. Offsets
    /// that used all their deliveries are reported by
    /// [`dead_letter_candidates`](Self::dead_letter_candidates) instead.
    ///
    /// Cost: O(log n) plus O(log n) per timer that fell due since the last call; never a scan
    /// of history.
    pub fn next_deliverable(&mut self, now_ms: u64, log_end: u64) -> Option<u64> {
        self.advance_clock(now_ms);
        if self.unexpired_leases() >= u64::from(self.config.max_in_flight) {
            return None;
        }
        let redelivery = self.ready.first().copied();
        let first_delivery = Some(self.next_to_deliver);
        [redelivery, first_delivery]
            .into_iter()
            .flatten()
            .filter(|&offset| offset < log_end)
            .min()
    }

    /// Offsets that were delivered `max_deliveries` times, are due again at `now_ms` and are
    /// not settled, ascending. The queue layer copies each to its dead-letter queue, then
    /// calls [`dead_letter`](Self::dead_letter); until then they stay candidates (so a crash
    /// in between reports them again), and are never delivered.
    pub fn dead_letter_candidates(&mut self, now_ms: u64) -> impl Iterator<Item = u64> + '_ {
        self.advance_clock(now_ms);
        self.exhausted.iter().copied()
    }

    /// Leases `offset` to `consumer_id` until `now_ms + lease_ms` and counts the attempt.
    ///
    /// Refused if the offset is settled, leased (unexpired), delayed past `now_ms`, beyond
    /// [`next_to_deliver`](Self::next_to_deliver), out of deliveries, or if `max_in_flight`
    /// leases are outstanding. The caller checks that `offset` is below the end of the log.
    pub fn deliver(
        &mut self,
        offset: u64,
        consumer_id: u64,
        now_ms: u64,
    ) -> Result<Lease, GroupError> {
        let now_ms = self.advance_clock(now_ms);
        self.check_unsettled(offset)?;
        if offset > self.next_to_deliver {
            return Err(GroupError::NotReached {
                offset,
                next_to_deliver: self.next_to_deliver,
            });
        }
        if let Some(lease) = self.leases.get(&offset) {
            if lease.deadline_ms > now_ms {
                return Err(GroupError::AlreadyLeased {
                    offset,
                    consumer_id: lease.consumer_id,
                    deadline_ms: lease.deadline_ms,
                });
            }
        }
        if let Some(&until_ms) = self.delays.get(&offset) {
            if until_ms > now_ms {
                return Err(GroupError::Delayed { offset, until_ms });
            }
        }
        let attempts = self.attempts(offset);
        if attempts >= self.config.max_deliveries {
            return Err(GroupError::DeliveryLimitReached { offset, attempts });
        }
        let in_flight = self.unexpired_leases();
        if in_flight >= u64::from(self.config.max_in_flight) {
            return Err(GroupError::InFlightLimitReached { in_flight });
        }
        let lease = Lease {
            consumer_id,
            deadline_ms: now_ms.saturating_add(self.config.lease_ms),
            attempt: attempts + 1,
        };
        self.apply_delivered(offset, lease)?;
        Ok(lease)
    }

    /// Pushes the deadline of `consumer_id`'s unexpired lease on `offset` back by `extra_ms`
    /// (new deadline = old deadline + `extra_ms`); returns the new lease.
    pub fn extend(
        &mut self,
        offset: u64,
        consumer_id: u64,
        extra_ms: u64,
        now_ms: u64,
    ) -> Result<Lease, GroupError> {
        let now_ms = self.advance_clock(now_ms);
        let Some(&lease) = self.leases.get(&offset) else {
            return Err(GroupError::NotLeased { offset });
        };
        if lease.consumer_id != consumer_id {
            return Err(GroupError::WrongConsumer {
                offset,
                holder_id: lease.consumer_id,
                requester_id: consumer_id,
            });
        }
        if lease.deadline_ms <= now_ms {
            return Err(GroupError::LeaseExpired {
                offset,
                deadline_ms: lease.deadline_ms,
            });
        }
        let deadline_ms = lease.deadline_ms.saturating_add(extra_ms);
        self.apply_extended(offset, deadline_ms)?;
        Ok(Lease {
            deadline_ms,
            ..lease
        })
    }

    /// Checks whether `offset` can be acknowledged: `Ok(true)` if an ack would newly settle
    /// it, `Ok(false)` if it is already acknowledged. Use before journalling an ack with
    /// outcome bytes.
    pub fn check_ack(&self, offset: u64) -> Result<bool, GroupError> {
        match self.check_unsettled(offset) {
            Ok(()) => Ok(true),
            Err(GroupError::AlreadyAcked { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Acknowledges `offset` (leased or not, lease expired or not; also never-delivered
    /// offsets). Returns whether it was newly acknowledged; acknowledging twice is a no-op.
    /// Refused for a dead-lettered offset.
    pub fn ack(&mut self, offset: u64) -> Result<bool, GroupError> {
        self.apply_acked(offset, None)
    }

    /// Like [`ack`](Self::ack), and remembers where the outcome bytes are. An offset already
    /// acknowledged keeps its earlier outcome (if any) and `Ok(false)` is returned.
    pub fn ack_with_outcome(
        &mut self,
        offset: u64,
        outcome: OutcomeRef,
    ) -> Result<bool, GroupError> {
        self.apply_acked(offset, Some(outcome))
    }

    /// Cumulative acknowledgement with Kafka commit semantics: `next_offset` is the next
    /// offset the consumer wants, so every offset *strictly below* `next_offset` is
    /// acknowledged and `next_offset` itself is not (`ack_through(10)` settles `0..=9`).
    /// Dead-lettered offsets below stay dead-lettered. Returns how many offsets were newly
    /// acknowledged.
    pub fn ack_through(&mut self, next_offset: u64) -> u64 {
        self.apply_acked_through(next_offset)
    }

    /// Negative acknowledgement: drops the lease on `offset` (expired or not) and delays its
    /// redelivery until `now_ms + delay_ms`, which is returned. The attempt stays counted.
    pub fn nack(&mut self, offset: u64, delay_ms: u64, now_ms: u64) -> Result<u64, GroupError> {
        let now_ms = self.advance_clock(now_ms);
        let not_before_ms = now_ms.saturating_add(delay_ms);
        self.apply_nacked(offset, not_before_ms)?;
        Ok(not_before_ms)
    }

    /// Drops the lease on `offset` (a delivery the consumer never got): it is deliverable
    /// again at once, and the attempt stays counted.
    pub fn release(&mut self, offset: u64) -> Result<(), GroupError> {
        self.apply_released(offset)
    }

    /// Records that `offset` was moved to the dead-letter queue: it is settled, never
    /// delivered again, and keeps `reason` (at most [`REASON_BYTES_MAX`](crate::REASON_BYTES_MAX)
    /// bytes). Refused for settled offsets.
    pub fn dead_letter(&mut self, offset: u64, reason: &str) -> Result<(), GroupError> {
        self.apply_dead_lettered(offset, reason)
    }

    /// Drops the outcome locators of offsets below `next_offset` (once their bytes are no
    /// longer needed); returns how many were dropped.
    pub fn forget_outcomes_below(&mut self, next_offset: u64) -> usize {
        self.apply_outcomes_forgotten(next_offset)
    }

    /// Counters at `now_ms` (advances the clock).
    pub fn stats(&mut self, now_ms: u64) -> GroupStats {
        self.advance_clock(now_ms);
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        GroupStats {
            min_unacked_offset: self.settled.floor(),
            next_to_deliver: self.next_to_deliver,
            in_flight: self.unexpired_leases(),
            expired_leases: self.expired_leases,
            delayed: count(self.delays.len()),
            dead: count(self.dead.len()),
            dead_letter_candidates: count(self.exhausted.len()),
            acked_above_floor: self.settled.len_above_floor(),
            gaps: count(self.settled.gap_count()),
            outcomes: count(self.outcomes.len()),
        }
    }
}
