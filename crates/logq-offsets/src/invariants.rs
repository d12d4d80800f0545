//! Checking a [`GroupState`] against the invariants in the `group_state` module docs, and
//! rebuilding its derived indices (after loading a checkpoint).

use std::collections::BTreeSet;

use crate::{GroupError, GroupState, REASON_BYTES_MAX};

fn broken(what: &'static str) -> GroupError {
    GroupError::Inconsistent { what }
}

impl GroupState {
    /// Checks every invariant of the recorded state and of the derived indices.
    /// Costs O(n) in the entries held; meant for tests and for validating checkpoints.
    pub fn check_invariants(&self) -> Result<(), GroupError> {
        self.check_recorded()?;
        self.check_indices()
    }

    /// The invariants of the journalled state (what a checkpoint holds).
    pub(crate) fn check_recorded(&self) -> Result<(), GroupError> {
        self.settled.check_invariants().map_err(broken)?;
        let cursor = self.next_to_deliver;
        if cursor < self.settled.floor() || self.settled.first_absent_at_or_after(cursor) != cursor
        {
            return Err(broken("next_to_deliver is settled"));
        }
        for (&offset, &attempts) in &self.attempts {
            if attempts == 0 {
                return Err(broken("zero attempt count"));
            }
            if offset >= cursor {
                return Err(broken("attempt count at or above next_to_deliver"));
            }
            if self.settled.contains(offset) {
                return Err(broken("attempt count for a settled offset"));
            }
        }
        // Every unsettled offset below the cursor has an attempt count: count them.
        let unsettled_below_cursor =
            cursor - self.settled.floor() - self.settled.count_above_floor_before(cursor);
        if u64::try_from(self.attempts.len()).ok() != Some(unsettled_below_cursor) {
            return Err(broken("a delivered, unsettled offset has no attempt count"));
        }
        for (offset, lease) in &self.leases {
            if self.attempts.get(offset) != Some(&lease.attempt) {
                return Err(broken("lease attempt differs from the attempt count"));
            }
            if self.delays.contains_key(offset) {
                return Err(broken("offset both leased and delayed"));
            }
        }
        if self.delays.keys().any(|o| !self.attempts.contains_key(o)) {
            return Err(broken("delay for an offset without attempts"));
        }
        for (&offset, reason) in &self.dead {
            if !self.settled.contains(offset) {
                return Err(broken("dead-lettered offset not settled"));
            }
            if crate::exceeds(reason.len(), REASON_BYTES_MAX) {
                return Err(broken("dead-letter reason too long"));
            }
        }
        for &offset in self.outcomes.keys() {
            if !self.settled.contains(offset) || self.dead.contains_key(&offset) {
                return Err(broken("outcome locator for an offset not acknowledged"));
            }
        }
        Ok(())
    }

    fn check_indices(&self) -> Result<(), GroupError> {
        let mut seen = BTreeSet::new();
        for &(at_ms, offset) in &self.timers {
            let expected = match self.leases.get(&offset) {
                Some(lease) => Some(lease.deadline_ms),
                None => self.delays.get(&offset).copied(),
            };
            if expected != Some(at_ms) {
                return Err(broken("timer without a matching lease or delay"));
            }
            if at_ms <= self.clock_ms {
                return Err(broken("timer due but not filed"));
            }
            seen.insert(offset);
        }
        let mut expired_leases = 0;
        for (&offset, exhausted) in self
            .ready
            .iter()
            .map(|o| (o, false))
            .chain(self.exhausted.iter().map(|o| (o, true)))
        {
            if !seen.insert(offset) {
                return Err(broken("offset filed twice in the indices"));
            }
            let Some(&attempts) = self.attempts.get(&offset) else {
                return Err(broken("due offset without attempts"));
            };
            if exhausted != (attempts >= self.config.max_deliveries) {
                return Err(broken("due offset filed under the wrong delivery limit"));
            }
            if self.leases.contains_key(&offset) {
                expired_leases += 1;
            }
        }
        if expired_leases != self.expired_leases {
            return Err(broken("expired lease count is stale"));
        }
        if !seen.iter().eq(self.attempts.keys()) {
            return Err(broken("indices do not cover the delivered offsets"));
        }
        Ok(())
    }

    /// Recomputes the derived indices from the recorded state, with the clock at 0.
    pub(crate) fn rebuild_indices(&mut self) {
        self.clock_ms = 0;
        self.timers.clear();
        self.ready.clear();
        self.exhausted.clear();
        self.expired_leases = 0;
        let offsets: Vec<u64> = self.attempts.keys().copied().collect();
        for offset in offsets {
            let timer = match self.leases.get(&offset) {
                Some(lease) => Some(lease.deadline_ms),
                None => self.delays.get(&offset).copied(),
            };
            match timer {
                Some(at_ms) => self.schedule(at_ms, offset),
                None => self.make_ready(offset),
            }
        }
    }
}
