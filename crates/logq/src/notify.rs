//! Wake-ups for blocked receivers and outcome waiters: no busy polling.
//!
//! A generation counter under a mutex: waiters read it, check their condition, then sleep
//! until it changes (or until their deadline). Every send, ack, nack and release bumps it.

use parking_lot::{Condvar, Mutex};
use std::time::Instant;

#[derive(Default)]
pub(crate) struct Notify {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Notify {
    /// The current generation; read it before checking a condition.
    pub fn generation(&self) -> u64 {
        *self.generation.lock()
    }

    /// Wakes every waiter.
    pub fn notify(&self) {
        let mut generation = self.generation.lock();
        *generation = generation.wrapping_add(1);
        self.changed.notify_all();
    }

    /// Sleeps until the generation differs from `seen` or `until` passes.
    pub fn wait(&self, seen: u64, until: Instant) {
        let mut generation = self.generation.lock();
        while *generation == seen {
            if self.changed.wait_until(&mut generation, until).timed_out() {
                return;
            }
        }
    }
}
