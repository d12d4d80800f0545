//! [`Breach`]: an invariant of ENGINEERING.md §2 (or a queue guarantee built on them) that a
//! consumer-group or queue workload broke, with what was found.

use std::fmt;

/// The invariant a [`Breach`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Invariant {
    /// 1. A send that returned `Ok` under `Always` is readable, byte for byte.
    AckedSendLost,
    /// 2. Every delivered or read payload equals what was sent.
    Corruption,
    /// 3. Nothing appears that was not sent (messages, acknowledgements, dead letters); a
    ///    batch is all or nothing.
    Phantom,
    /// 4. Offsets are dense and increasing; one payload per offset.
    Order,
    /// 5. A message whose ack returned `Ok` is never delivered to that group again.
    AcksStick,
    /// 6. A message not durably settled is delivered again (or dead-lettered).
    AtLeastOnce,
    /// 7. A crash during recovery, then recovery again, gives the same state.
    RecoveryIdempotent,
    /// 8. After an I/O error nothing reports durability it did not reach, and the failed
    ///    handle refuses further writes until reopened.
    NoDurabilityAfterError,
    /// A send with dedup id X that returned `Ok(id)`: every later send of X returns `id`.
    Dedup,
    /// A dead-lettered message is in the dead-letter queue exactly once.
    DeadLetter,
    /// Delivery attempts survive a process crash (so `max_deliveries` holds across restarts).
    AttemptsKept,
    /// Opening failed on a state a crash, kill or injected fault can produce.
    RecoveryFailed,
    /// An operation failed with no fault injected and the machine up.
    UnexpectedError,
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Invariant::AckedSendLost => "invariant 1 (no acknowledged send lost)",
            Invariant::Corruption => "invariant 2 (no corruption)",
            Invariant::Phantom => "invariant 3 (no phantoms)",
            Invariant::Order => "invariant 4 (dense order)",
            Invariant::AcksStick => "invariant 5 (acks stick)",
            Invariant::AtLeastOnce => "invariant 6 (at least once)",
            Invariant::RecoveryIdempotent => "invariant 7 (recovery idempotent)",
            Invariant::NoDurabilityAfterError => "invariant 8 (no durability after an I/O error)",
            Invariant::Dedup => "dedup (a resend returns the first id)",
            Invariant::DeadLetter => "dead letters (exactly once in the DLQ)",
            Invariant::AttemptsKept => "delivery attempts survive a process crash",
            Invariant::RecoveryFailed => "recovery failed",
            Invariant::UnexpectedError => "unexpected error",
        };
        f.write_str(text)
    }
}

/// A broken invariant and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// Which invariant.
    pub invariant: Invariant,
    /// What was expected and what was found.
    pub detail: String,
}

impl Breach {
    /// A breach of `invariant`.
    pub fn new(invariant: Invariant, detail: impl Into<String>) -> Self {
        Breach {
            invariant,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.invariant, self.detail)
    }
}

impl std::error::Error for Breach {}

/// Fails with a breach of `invariant` unless `condition` holds.
pub fn ensure(
    condition: bool,
    invariant: Invariant,
    detail: impl FnOnce() -> String,
) -> Result<(), Breach> {
    if condition {
        Ok(())
    } else {
        Err(Breach::new(invariant, detail()))
    }
}
