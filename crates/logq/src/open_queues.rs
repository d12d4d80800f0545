//! Opening a store's existing queues, side by side.
//!
//! Each queue's open is bounded by its fdatasyncs (the recovered tail of its message log and
//! of its group journal, and their directories), so opening the queues on several threads
//! overlaps those waits. Invariants:
//! - the outcome is the sequential one: every queue opens, or the error returned is the one
//!   of the first failing queue in name order (the others' results are dropped);
//! - a file system that does not allow concurrent recovery (the simulated one, whose crash
//!   points are numbered operations) gets the queues opened one after the other, in name
//!   order, on the calling thread;
//! - a thread that cannot be started only costs the overlap: its share is opened here.

use crate::error::Result;
use crate::queue::Queue;

/// Threads at most: past a few, the disk's queue of flushes, not the threads, is the limit.
const QUEUE_OPEN_THREADS_MAX: usize = 8;

/// Opens the queues `names` with `open` and returns them in the order of `names`.
///
/// `concurrent` is [`logq_log::fs::FileSystem::allows_concurrent_recovery`] of the store's
/// file system.
pub(crate) fn open_all(
    names: &[String],
    concurrent: bool,
    open: impl Fn(&str) -> Result<Queue> + Sync,
) -> Result<Vec<Queue>> {
    if !concurrent || names.len() < 2 {
        return names.iter().map(|name| open(name)).collect();
    }
    let workers = names.len().min(QUEUE_OPEN_THREADS_MAX);
    // Worker `w` opens names w, w + workers, w + 2 × workers, …
    let share = |worker: usize| -> Vec<(usize, Result<Queue>)> {
        names
            .iter()
            .enumerate()
            .skip(worker)
            .step_by(workers)
            .map(|(at, name)| (at, open(name)))
            .collect()
    };
    let mut opened: Vec<(usize, Result<Queue>)> = std::thread::scope(|scope| {
        let spawned: Vec<_> = (1..workers)
            .map(|worker| {
                let handle = std::thread::Builder::new()
                    .name("logq-open-queues".into())
                    .spawn_scoped(scope, move || share(worker));
                (worker, handle)
            })
            .collect();
        let mut opened = share(0);
        for (worker, handle) in spawned {
            match handle {
                Ok(handle) => opened.extend(
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                ),
                Err(_) => opened.extend(share(worker)),
            }
        }
        opened
    });
    opened.sort_by_key(|(at, _)| *at);
    opened.into_iter().map(|(_, queue)| queue).collect()
}
