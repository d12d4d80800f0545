//! Waiting for durability without blocking a thread: [`WaitDurable`], a future.
//!
//! A blocking [`Log::wait_durable`] parks its thread until a commit covers it, so N blocking
//! appenders cost N futex sleeps and wake-ups per commit (about 10 µs of kernel CPU each on a
//! small VM). A [`WaitDurable`] future instead leaves a slot (target offset, waker) in the
//! log's [`AsyncWaiters`] and returns `Pending`. One background *committer* thread per log,
//! started by the first registration, drives the commits: it is one more waiter of the same
//! group commit (see `sync.rs`), for the highest registered target, so blocking and async
//! appenders share every write and fdatasync. Each commit that advances the durable offset
//! wakes one covered task, which wakes the other covered tasks when its executor polls it (or
//! drops it): N tasks on one executor thread then cost one thread wake-up per commit, not one
//! per append (waking all N from the committer made the executor drain each task before the
//! next wake — one futex wake-up and context switch per append). The price: a covered task's
//! wake-up waits for the first covered task's executor to poll it. After a commit that
//! released at most `sync::gather_goal_max()` tasks (8 per CPU), the committer gathers: it
//! waits until as many slots wait again, or half its last commit's time (at most 1 ms), so
//! one fdatasync covers them all instead of the tasks splitting into two cohorts that take
//! turns (2-vCPU VM, median of 5 runs of the profiling binary: 16 tasks 85–87 k → 89–112 k
//! appends/s, 4 tasks 22–24 k → 27–28 k). More tasks are not gathered: their turn on the
//! executor outlasts the wait (64 tasks: 226–271 k appends/s without gathering, 170 k with
//! it).
//!
//! Invariants (under `AsyncWaiters::state`):
//! - a slot stays registered until it is woken (directly, or chained to the first covered
//!   slot); it is woken only once the durable offset reached its target, or when the
//!   committer stopped (log poisoned or closed) — the future then re-checks and reports why;
//! - a future passes the wake-ups chained to its slot on whenever it is polled or dropped;
//! - a poll that registers re-checks the durable offset under the registry lock, and every
//!   waker takes that lock after advancing the durable offset, so no wake-up is lost;
//! - the committer holds the log only while it drives a commit (a `Weak` otherwise), so an
//!   unused log is still dropped; `close` and drop stop it.

use crate::error::{Error, Result};
use crate::log::{Inner, Log};
use parking_lot::{Condvar, Mutex};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One task waiting for an offset to become durable.
struct Slot {
    target: u64,
    waker: Mutex<Waker>,
    /// Covered slots this one's task wakes when it is polled or dropped (see `wake_covered`).
    chained: Mutex<Chain>,
}

#[derive(Default)]
struct Chain {
    slots: Vec<Arc<Slot>>,
    /// The future resolved or was dropped: nothing may be chained to it any more.
    ended: bool,
}

impl Slot {
    fn wake(&self) {
        self.waker.lock().wake_by_ref();
    }

    /// Chains `slots` to this one and wakes its task, or wakes them directly when its future
    /// has ended (it may have been polled, found itself durable and resolved before the chain
    /// was attached).
    fn chain_and_wake(&self, slots: Vec<Arc<Slot>>) {
        let direct = {
            let mut chain = self.chained.lock();
            if chain.ended {
                slots
            } else {
                chain.slots.extend(slots);
                Vec::new()
            }
        };
        self.wake();
        for slot in direct {
            slot.wake();
        }
    }

    /// Wakes the slots chained to this one; with `end`, no more can be chained.
    fn wake_chained(&self, end: bool) {
        let slots = {
            let mut chain = self.chained.lock();
            chain.ended |= end;
            std::mem::take(&mut chain.slots)
        };
        for slot in slots {
            slot.wake();
        }
    }
}

#[derive(Default)]
struct RegistryState {
    slots: Vec<Arc<Slot>>,
    committer: Option<JoinHandle<()>>,
    /// True while the committer waits for work (it needs a notification).
    committer_idle: bool,
    /// Set by `close`/drop, or by the committer when a commit failed; no commit runs after.
    stopped: bool,
    /// Why the committer stopped, when a commit failed.
    failure: Option<Arc<str>>,
    /// How many slots the last commit that covered any released.
    released: usize,
    /// How long the committer's last commit took.
    last_commit: Duration,
    /// While the committer gathers: how many slots it waits for (0 otherwise).
    gather_goal: usize,
}

/// The async waiters of one log and its committer thread.
#[derive(Default)]
pub(crate) struct AsyncWaiters {
    state: Mutex<RegistryState>,
    work: Condvar,
}

impl AsyncWaiters {
    /// Wakes every slot whose target is below or at `durable_offset`.
    pub fn wake_covered(&self, durable_offset: u64) {
        let mut covered = Vec::new();
        {
            let mut state = self.state.lock();
            state.slots.retain(|slot| {
                let keep = slot.target > durable_offset;
                if !keep {
                    covered.push(Arc::clone(slot));
                }
                keep
            });
            if !covered.is_empty() {
                state.released = covered.len();
            }
        }
        // The committer wakes one task; that task, when its executor polls it, wakes the
        // others (`WaitDurable::poll`, or its drop). Waking them all from here made the
        // executor thread and the committer take turns — one futex wake-up and context
        // switch per task — because the executor drained each task before the next wake.
        let mut covered = covered.into_iter();
        if let Some(first) = covered.next() {
            first.chain_and_wake(covered.collect());
        }
    }

    /// Stops the committer (without waiting for it) and wakes every slot, so each future
    /// re-checks the log and reports. `failure` says why when a commit failed.
    fn stop(&self, failure: Option<Arc<str>>) -> Option<JoinHandle<()>> {
        let (slots, handle) = {
            let mut state = self.state.lock();
            state.stopped = true;
            if state.failure.is_none() {
                state.failure = failure;
            }
            (std::mem::take(&mut state.slots), state.committer.take())
        };
        self.work.notify_all();
        for slot in slots {
            slot.wake();
        }
        handle
    }

    /// Stops the committer, waits for it to finish (unless called from it), and wakes every
    /// slot.
    pub fn shut_down(&self) {
        if let Some(handle) = self.stop(None) {
            if handle.thread().id() != std::thread::current().id() {
                let _joined = handle.join();
            }
        }
    }

    /// Stops the committer without waiting (used on drop, where the committer may be the
    /// thread dropping the log).
    pub fn signal_stop(&self) {
        drop(self.stop(None));
    }

    /// The committer's next target: the highest registered one. Waits while there is none;
    /// `None` once stopped.
    ///
    /// Gathering: when the last commit released at most `gather_goal_max` tasks, it first
    /// waits until as many slots are registered again, or half the last commit's time (at
    /// most 1 ms) has passed. The released tasks usually send again at once, one after the
    /// other on their executor; without the wait the commit covers the first of them and the
    /// tasks settle into two cohorts taking turns, each fdatasync covering about half. With
    /// many tasks their turn on the executor takes longer than the wait is worth (see
    /// `sync.rs`), so they are not gathered. While it gathers, the committer first yields its
    /// CPU up to `SPIN_YIELDS_BEFORE_PARK` times (checking the slots in between), then sleeps
    /// on `work`: a sleeping committer needs a futex wake-up from the executor's thread
    /// before its commit can start. `examples/producers.rs <dir> N 3 async`, five interleaved
    /// runs each (2026-12-06), medians sleeping at once → yielding first: 16 tasks 88.5 k →
    /// 112.6 k sends/s (spread 75–109 k → 104–115 k), 4 tasks 27.1 k → 29.3 k, one task
    /// 7.5 k → 7.9 k; 64 tasks (not gathered) unchanged.
    fn next_target(&self, gather_goal_max: usize) -> Option<u64> {
        let mut state = self.state.lock();
        let deadline = Instant::now() + (state.last_commit / 2).min(Duration::from_millis(1));
        let goal = std::mem::take(&mut state.released);
        let mut spins = 0;
        loop {
            if state.stopped {
                return None;
            }
            if let Some(target) = state.slots.iter().map(|slot| slot.target).max() {
                if goal <= gather_goal_max && state.slots.len() < goal && Instant::now() < deadline
                {
                    if spins < crate::sync::SPIN_YIELDS_BEFORE_PARK {
                        // `gather_goal` stays 0 meanwhile: a registering task does not notify.
                        spins += 1;
                        parking_lot::MutexGuard::unlocked(&mut state, std::thread::yield_now);
                        continue;
                    }
                    state.gather_goal = goal;
                    let _timed_out = self.work.wait_until(&mut state, deadline);
                    state.gather_goal = 0;
                    continue;
                }
                return Some(target);
            }
            state.committer_idle = true;
            self.work.wait(&mut state);
            state.committer_idle = false;
        }
    }
}

/// The committer thread of one log: makes the highest registered target durable, again and
/// again, through the log's group commit; stops when told to, when the log is gone, or when
/// a commit fails (the log is then poisoned or closed).
fn committer(log: Weak<Inner>, waiters: Arc<AsyncWaiters>) {
    let gather_goal_max = crate::sync::gather_goal_max();
    while let Some(target) = waiters.next_target(gather_goal_max) {
        let Some(inner) = log.upgrade() else {
            waiters.signal_stop();
            return;
        };
        let log = Log::from_inner(inner);
        let started = Instant::now();
        let result = log.wait_durable(target);
        let durable = log.durable_offset();
        drop(log);
        waiters.state.lock().last_commit = started.elapsed();
        match result {
            // Most slots were woken inside the commit (`on_durable`); this catches the
            // ones a roll made durable.
            Ok(()) => waiters.wake_covered(durable),
            Err(error) => {
                tracing::debug!(%error, "async durability committer stopped");
                drop(waiters.stop(Some(Arc::from(error.to_string()))));
                return;
            }
        }
    }
}

/// A future that resolves once every offset below its target is durable (see
/// [`Log::wait_durable_async`]).
///
/// It needs no particular executor: it registers the task's waker, and the log's committer
/// thread wakes it. Dropping it before it resolves is allowed (the commit it asked for still
/// runs).
#[must_use = "futures do nothing unless polled"]
pub struct WaitDurable {
    log: Log,
    target: u64,
    slot: Option<Arc<Slot>>,
    /// An error found when the future was made (read-only log, offset beyond the end).
    refused: Option<Error>,
}

impl std::fmt::Debug for WaitDurable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitDurable")
            .field("target", &self.target)
            .field("registered", &self.slot.is_some())
            .finish()
    }
}

impl WaitDurable {
    pub(crate) fn new(log: Log, target: u64, refused: Option<Error>) -> Self {
        WaitDurable {
            log,
            target,
            slot: None,
            refused,
        }
    }

    /// The outcome once the durable offset, the poison or the closing decides it.
    fn settled(&self) -> Option<Result<()>> {
        if self.log.durable_offset() >= self.target {
            return Some(Ok(()));
        }
        let inner = self.log.inner();
        let Some(commit) = inner.commit() else {
            return Some(Err(Error::ReadOnly {
                dir: inner.dir.clone(),
            }));
        };
        if let Err(error) = commit.check_poison() {
            return Some(Err(error));
        }
        if inner.is_closed() {
            return Some(Err(Error::Closed));
        }
        None
    }
}

impl Drop for WaitDurable {
    fn drop(&mut self) {
        // A task dropped after its wake-up still passes it on.
        if let Some(slot) = &self.slot {
            slot.wake_chained(true);
        }
    }
}

impl Future for WaitDurable {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        if let Some(slot) = &this.slot {
            slot.wake_chained(false);
        }
        let outcome = this.poll_registered(cx);
        if let (Poll::Ready(_), Some(slot)) = (&outcome, &this.slot) {
            slot.wake_chained(true);
        }
        outcome
    }
}

impl WaitDurable {
    /// The poll proper: resolves, or registers (or refreshes) this future's slot.
    fn poll_registered(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self;
        if let Some(error) = this.refused.take() {
            return Poll::Ready(Err(error));
        }
        if let Some(outcome) = this.settled() {
            return Poll::Ready(outcome);
        }
        let inner = this.log.inner();
        let waiters = inner.async_waiters();
        let mut state = waiters.state.lock();
        // Re-checked under the registry lock: a commit that advanced the durable offset
        // before this point is seen here, one after it finds this slot.
        if let Some(outcome) = this.settled() {
            return Poll::Ready(outcome);
        }
        if state.stopped {
            let cause = state
                .failure
                .clone()
                .unwrap_or_else(|| Arc::from("the async durability committer stopped"));
            return Poll::Ready(Err(Error::Poisoned { cause }));
        }
        // A slot leaves the registry only when covered (then `settled` answered above) or
        // when the committer stops (answered above too): one held here is still registered.
        match &this.slot {
            Some(slot) => {
                let mut waker = slot.waker.lock();
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
            }
            None => {
                let slot = Arc::new(Slot {
                    target: this.target,
                    waker: Mutex::new(cx.waker().clone()),
                    chained: Mutex::new(Chain::default()),
                });
                state.slots.push(Arc::clone(&slot));
                this.slot = Some(slot);
            }
        }
        if state.committer.is_none() {
            let weak = Arc::downgrade(inner);
            let shared = Arc::clone(waiters);
            match std::thread::Builder::new()
                .name("logq-committer".into())
                .spawn(move || committer(weak, shared))
            {
                Ok(handle) => state.committer = Some(handle),
                Err(error) => {
                    if let Some(slot) = this.slot.take() {
                        state.slots.retain(|s| !Arc::ptr_eq(s, &slot));
                    }
                    return Poll::Ready(Err(Error::io(
                        &inner.dir,
                        "spawn committer thread",
                        error,
                    )));
                }
            }
        } else if state.committer_idle
            || (state.gather_goal > 0 && state.slots.len() >= state.gather_goal)
        {
            waiters.work.notify_one();
        }
        Poll::Pending
    }
}
