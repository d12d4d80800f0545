//! Decoding never allocates more than its input justifies: lengths and counts are checked
//! against the bytes left before any allocation. Measured with a counting allocator; this
//! file holds a single test so no other test thread allocates meanwhile.

// The counting allocator needs `unsafe impl GlobalAlloc`; the library itself forbids unsafe.
#![allow(unsafe_code)]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use logq_offsets::{Checkpoint, GroupEvent};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATED_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are atomics
// and allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATED_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated while running `f` (including those freed again).
fn allocated_by<T>(f: impl FnOnce() -> T) -> usize {
    ALLOCATED_BYTES.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let result = f();
    COUNTING.store(false, Ordering::SeqCst);
    drop(result);
    ALLOCATED_BYTES.load(Ordering::SeqCst)
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let event_bytes = allocated_by(|| GroupEvent::decode(bytes));
    prop_assert!(
        event_bytes <= bytes.len(),
        "event decode of {} bytes allocated {}",
        bytes.len(),
        event_bytes
    );
    // Checkpoint entries are larger in memory than on disk (a 12-byte dead letter entry is
    // a 32-byte (u64, String)): at most 3x, as documented.
    let checkpoint_bytes = allocated_by(|| Checkpoint::decode(bytes));
    prop_assert!(
        checkpoint_bytes <= 3 * bytes.len(),
        "checkpoint decode of {} bytes allocated {}",
        bytes.len(),
        checkpoint_bytes
    );
    Ok(())
}

#[test]
fn decoding_allocates_at_most_what_the_input_justifies() {
    let mut runner = TestRunner::new(Config::with_cases(300));
    // Random bytes, with a plausible tag and huge length fields likely.
    let garbage = (0u8..12, prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(tag, rest)| {
        let mut bytes = vec![tag];
        bytes.extend(rest);
        bytes
    });
    runner.run(&garbage, |bytes| check(&bytes)).unwrap();
    // Valid encodings, whole and with a length field grown.
    let valid = (support::event(), support::checkpoint(), any::<u8>()).prop_map(
        |(event, checkpoint, grow)| {
            (
                event.to_bytes().unwrap(),
                checkpoint.to_bytes().unwrap(),
                grow,
            )
        },
    );
    let mut runner = TestRunner::new(Config::with_cases(300));
    runner
        .run(&valid, |(event, checkpoint, grow)| {
            check(&event)?;
            check(&checkpoint)?;
            let mut corrupted = checkpoint.clone();
            let at = usize::from(grow) % corrupted.len();
            corrupted[at] = 0xFF;
            check(&corrupted)
        })
        .unwrap();
    // The counter itself works: a decode that keeps bytes is counted.
    let event = GroupEvent::Acked {
        group: logq_offsets::GroupId(1),
        offset: 1,
        outcome: Some(vec![1; 100]),
    };
    let bytes = event.to_bytes().unwrap();
    assert!(allocated_by(|| GroupEvent::decode(&bytes)) >= 100);
}
