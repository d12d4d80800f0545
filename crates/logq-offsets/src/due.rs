//! The derived indices of a [`GroupState`] that find redeliveries without scanning history:
//! `timers` (lease deadlines and delay ends, ordered by time), `ready` (due offsets with
//! deliveries left) and `exhausted` (due offsets out of deliveries: dead-letter candidates).
//! The clock only moves forward; timers at or before it are filed as due. Inside a bulk
//! replay ([`crate::Replay`]) these functions do nothing: the indices are rebuilt at its end.

use crate::GroupState;

impl GroupState {
    /// Removes `offset` from the derived indices (not from leases, delays or attempts).
    pub(crate) fn detach(&mut self, offset: u64) {
        if self.indices_deferred {
            return;
        }
        let was_due = self.ready.remove(&offset) | self.exhausted.remove(&offset);
        if let Some(lease) = self.leases.get(&offset) {
            self.timers.remove(&(lease.deadline_ms, offset));
            if was_due {
                self.expired_leases -= 1;
            }
        }
        if let Some(&until_ms) = self.delays.get(&offset) {
            self.timers.remove(&(until_ms, offset));
        }
    }

    /// Registers the lease deadline or delay end of `offset` (already recorded): as a timer,
    /// or at once as due if the clock has reached it.
    pub(crate) fn schedule(&mut self, at_ms: u64, offset: u64) {
        if self.indices_deferred {
            return;
        }
        if at_ms > self.clock_ms {
            self.timers.insert((at_ms, offset));
        } else {
            if self.leases.contains_key(&offset) {
                self.expired_leases += 1;
            }
            self.make_ready(offset);
        }
    }

    /// Files a due offset under `ready`, or under `exhausted` if it used all its deliveries.
    pub(crate) fn make_ready(&mut self, offset: u64) {
        if self.indices_deferred {
            return;
        }
        if self.attempts(offset) >= self.config.max_deliveries {
            self.exhausted.insert(offset);
        } else {
            self.ready.insert(offset);
        }
    }

    /// Moves the clock to `max(clock, now_ms)` and files every timer due by then.
    /// Returns the new clock.
    pub(crate) fn advance_clock(&mut self, now_ms: u64) -> u64 {
        self.clock_ms = self.clock_ms.max(now_ms);
        while let Some(&(at_ms, offset)) = self.timers.first() {
            if at_ms > self.clock_ms {
                break;
            }
            self.timers.pop_first();
            if self.leases.contains_key(&offset) {
                self.expired_leases += 1;
            }
            self.make_ready(offset);
        }
        self.clock_ms
    }

    /// When the next lease expires or delay ends (ms since the Unix epoch), if any: a
    /// blocked receiver sleeps until then instead of polling.
    pub fn next_timer_ms(&self) -> Option<u64> {
        self.timers.first().map(|(at_ms, _)| *at_ms)
    }

    /// Leases that have not expired by the clock (call `advance_clock` first).
    pub(crate) fn unexpired_leases(&self) -> u64 {
        u64::try_from(self.leases.len()).unwrap_or(u64::MAX) - self.expired_leases
    }
}
