//! Group commit: many appenders, one write and one fdatasync.
//!
//! Under `Durability::Always` appenders only copy their sealed batch into the writer's
//! pending buffer, then wait here until the durable offset passes the end of their batch. The
//! first waiter that finds no commit running becomes the leader: it has the writer write the
//! whole pending buffer with one `pwrite` (the `flush` callback, which takes the writer lock
//! briefly), then runs fdatasync outside every lock — appenders keep filling the next buffer
//! meanwhile — and on success publishes the flushed offset as durable.
//!
//! Wake-ups are targeted, not broadcast: each waiter registers its own slot (target offset,
//! thread). A finished leader hands the leadership straight to one waiter that is still not
//! covered (it is woken first, so the next write and fdatasync start at once), then wakes
//! exactly the waiters it covered. No waiter is woken only to go back to sleep, and no
//! wake-up passes through a shared lock, so 64 appenders cost 64 wake-ups per commit, not a
//! chain of 64 lock hand-offs.
//!
//! Invariants (under `state`): `syncing` is true exactly while one thread — a leader, or a
//! waiter designated as the next leader — owns the commit; every registered waiter is
//! eventually signalled: `DONE` once its target is durable, `LEAD` to take over the commit,
//! or `FAILED` when the log is poisoned.
//!
//! A failed write or fdatasync poisons the log: the kernel may have dropped the dirty pages
//! and a later fdatasync would report success for bytes that are gone. Every waiter not yet
//! covered fails, and so does every later append, until the log is reopened and recovered.

use crate::error::{Error, Result};
use crate::fs::FsFile;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How many times a waiter yields its CPU (checking its signal in between) before it sleeps
/// on a futex. A commit takes about one fdatasync, and a futex sleep plus wake-up costs
/// ~10 µs of kernel CPU on a small VM; yielding first lets most waiters see their signal
/// without sleeping (the leader's `unpark` of a thread that is not parked is then one atomic
/// store, no system call), while other threads still get the CPU. Measured on the 2-vCPU VM
/// with 4 / 16 / 64 appenders: +20 % / +45 % / +25 % appends per second against parking at
/// once; 1,000 yields was worse than 100 (the spinners crowd out the threads with work).
/// Re-measured through the queue API (2026-12-06, Intel VM, `examples/producers.rs`, 16
/// producer threads, 3 s each, three runs): 0 / 20 / 100 / 300 / 1,000 yields gave
/// 56–59 k / 75–76 k / 82–83 k / 80–82 k / 79–80 k sends/s (CPU use 0.64 / 1.26 / 1.6 /
/// 1.68 / 1.8 of 2 vCPUs). Parking at once only the waiters that the running fdatasync does
/// not cover (they need a later commit, so their yields seemed wasted) gave 46–59 k against
/// 69–87 k sends/s (5 interleaved runs each): one of them leads the next commit, and waking it
/// from a futex leaves the disk idle.
pub(crate) const SPIN_YIELDS_BEFORE_PARK: u32 = 100;

/// Gathering (see [`GroupCommit::gather`]) is skipped when it would wait for more threads
/// than this many per CPU: each of them must be scheduled, return from its append and append
/// again before the commit may start, so on few cores the wait runs into its deadline and
/// delays every commit by half an fdatasync while merging only part of the threads. Measured
/// on the 2-vCPU VM (median of 5 runs of 2,500 appends per thread): 64 appenders 142 k/s
/// gathering against 182 k/s without; 16 appenders 82 k/s against 84 k/s; 4 appenders
/// 31 k/s against 21 k/s.
const GATHER_THREADS_PER_CPU_MAX: usize = 8;

/// A waiter's slot is not signalled yet.
const WAITING: u8 = 0;
/// The waiter's target is durable.
const DONE: u8 = 1;
/// The waiter is the next leader (`syncing` stays true on its behalf).
const LEAD: u8 = 2;
/// The log is poisoned.
const FAILED: u8 = 3;

/// One thread waiting for an offset to become durable.
struct Waiter {
    target: u64,
    thread: Thread,
    signal: AtomicU8,
    /// Waiters this one wakes with the same signal once woken (see [`wake_tree`]).
    children: Mutex<Vec<Arc<Waiter>>>,
}

/// Wakes every waiter of `waiters` with `signal` through a binary tree: this thread wakes
/// the first, and each woken waiter wakes two more before returning. The wake-ups (a futex
/// call and a context switch each) are spread over the woken threads and every core
/// instead of queueing behind one thread.
fn wake_tree(waiters: Vec<Arc<Waiter>>, signal: u8) {
    for (index, waiter) in waiters.iter().enumerate() {
        let children: Vec<Arc<Waiter>> = (1..=2)
            .filter_map(|step| waiters.get(2 * index + step).cloned())
            .collect();
        if !children.is_empty() {
            *waiter.children.lock() = children;
        }
    }
    // A waiter still yielding sees its signal at its next turn on a CPU instead of after its
    // ancestors in the tree have run: only the unparks of sleeping waiters go through the
    // tree. (16 producer threads, 2 vCPUs: 85.6 k against 82.5 k sends/s, medians of 8
    // interleaved 3-second runs of `examples/producers.rs`.)
    for waiter in &waiters {
        waiter.signal.store(signal, Ordering::Release);
    }
    if let Some(root) = waiters.first() {
        root.wake(signal);
    }
}

impl Waiter {
    /// Sets the signal and wakes the thread.
    fn wake(&self, signal: u8) {
        self.signal.store(signal, Ordering::Release);
        self.thread.unpark();
    }

    /// Waits until signalled: yields up to `SPIN_YIELDS_BEFORE_PARK` times, then parks
    /// (`park` may return spuriously).
    fn wait(&self) -> u8 {
        for _ in 0..SPIN_YIELDS_BEFORE_PARK {
            if self.signal.load(Ordering::Acquire) != WAITING {
                break;
            }
            std::thread::yield_now();
        }
        loop {
            let signal = self.signal.load(Ordering::Acquire);
            if signal != WAITING {
                for child in std::mem::take(&mut *self.children.lock()) {
                    child.wake(signal);
                }
                return signal;
            }
            std::thread::park();
        }
    }
}

/// What a flush hands the leader: the file to fdatasync, its path (for errors), and the
/// offset below which every batch is now written to that file.
pub(crate) struct Flushed {
    pub file: Arc<dyn FsFile>,
    pub path: PathBuf,
    pub written_offset: u64,
}

struct CommitState {
    /// True while a leader writes and fdatasyncs.
    syncing: bool,
    /// Leader fdatasyncs announced by a flush (under the writer lock) and not finished.
    fsyncs_in_flight: u32,
    /// Why the log is poisoned, if it is.
    poison: Option<Arc<str>>,
    /// Threads parked until their target is durable (or they are to lead).
    waiters: Vec<Arc<Waiter>>,
    /// How many waiters the designated next leader waits for before it flushes: the ones
    /// left uncovered plus the threads the last commit released (they usually append again
    /// at once). See [`GroupCommit::gather`].
    gather_goal: usize,
    /// The designated leader while it waits for `gather_goal` waiters.
    gatherer: Option<Thread>,
    /// How long the last fdatasync took (bounds the gathering to half of it).
    last_fsync: Duration,
    /// When the last commit released its waiters.
    released_at: Option<Instant>,
    /// The most threads a gathering waits for; `None`: [`gather_goal_max`], looked up on the
    /// first commit that needs it rather than at open (it reads cgroup files).
    gather_goal_max: Option<usize>,
}

/// The most threads (or tasks) a gathering waits for on this machine:
/// `GATHER_THREADS_PER_CPU_MAX` per CPU. The CPU count is looked up once per process:
/// `available_parallelism` reads `/proc/self/cgroup` and the cgroup's quota files, 26–65 µs
/// on the two-vCPU VM of docs/BENCHMARKS.md, which every open of every log (two per queue)
/// used to pay.
pub(crate) fn gather_goal_max() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    GATHER_THREADS_PER_CPU_MAX.saturating_mul(*CPUS.get_or_init(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }))
}

impl CommitState {
    /// Whether a leader should gather before its commit: only when the threads it would
    /// wait for are few enough per CPU to come back within the gathering's deadline.
    fn gathering_pays(&self) -> bool {
        self.gather_goal <= self.gather_goal_max.unwrap_or_else(gather_goal_max)
    }
}

/// The group-commit coordinator of one log.
pub(crate) struct GroupCommit {
    dir: PathBuf,
    fs: Arc<dyn crate::fs::FileSystem>,
    state: Mutex<CommitState>,
    wake: Condvar,
    /// Every offset below this is durable.
    durable_offset: AtomicU64,
    poisoned: AtomicBool,
    /// Set (under `state`) when as many threads wait as the running gathering waits for, so
    /// a gatherer that yields sees it without taking the lock. See [`GroupCommit::gather`].
    gather_met: AtomicBool,
}

impl GroupCommit {
    /// A coordinator for a log whose offsets below `durable_offset` are durable.
    pub fn new(fs: Arc<dyn crate::fs::FileSystem>, dir: PathBuf, durable_offset: u64) -> Self {
        GroupCommit {
            dir,
            fs,
            state: Mutex::new(CommitState {
                syncing: false,
                fsyncs_in_flight: 0,
                poison: None,
                waiters: Vec::new(),
                gather_goal: 0,
                gatherer: None,
                last_fsync: Duration::ZERO,
                released_at: None,
                gather_goal_max: None,
            }),
            wake: Condvar::new(),
            durable_offset: AtomicU64::new(durable_offset),
            poisoned: AtomicBool::new(false),
            gather_met: AtomicBool::new(false),
        }
    }

    /// Every offset below the returned one is durable.
    pub fn durable_offset(&self) -> u64 {
        self.durable_offset.load(Ordering::Acquire)
    }

    /// Fails when the log is poisoned.
    pub fn check_poison(&self) -> Result<()> {
        if !self.poisoned.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(self.poison_error(&self.state.lock()))
    }

    fn poison_error(&self, state: &CommitState) -> Error {
        let cause = state
            .poison
            .clone()
            .unwrap_or_else(|| Arc::from("unknown failure"));
        Error::Poisoned { cause }
    }

    /// Poisons the log after a failed write or fsync.
    pub fn poison(&self, cause: &Error) {
        self.poison_and_release(self.state.lock(), cause);
    }

    /// Records the poison, releases the lock, fails every waiter and wakes a roll waiting
    /// for the fsync slot.
    fn poison_and_release(&self, mut state: MutexGuard<'_, CommitState>, cause: &Error) {
        let failed = self.poison_locked(&mut state, cause);
        drop(state);
        wake_tree(failed, FAILED);
        self.wake.notify_all();
    }

    /// Records the poison; returns the waiters to wake with `FAILED` (after unlocking).
    fn poison_locked(&self, state: &mut CommitState, cause: &Error) -> Vec<Arc<Waiter>> {
        if state.poison.is_none() {
            crate::poison_mark::set(self.fs.as_ref(), &self.dir);
            tracing::error!(%cause, "log poisoned; it refuses writes until reopened");
            state.poison = Some(Arc::from(cause.to_string()));
        }
        self.poisoned.store(true, Ordering::Release);
        std::mem::take(&mut state.waiters)
    }

    /// Takes the waiters whose target is durable now out of the list.
    fn take_covered(state: &mut CommitState, durable_offset: u64) -> Vec<Arc<Waiter>> {
        let mut covered = Vec::new();
        state.waiters.retain(|waiter| {
            if waiter.target <= durable_offset {
                covered.push(Arc::clone(waiter));
                false
            } else {
                true
            }
        });
        covered
    }

    /// Records that a roll fdatasynced everything below `durable_offset`.
    pub fn mark_durable(&self, durable_offset: u64) {
        self.durable_offset
            .fetch_max(durable_offset, Ordering::AcqRel);
        let mut state = self.state.lock();
        let covered = Self::take_covered(&mut state, self.durable_offset());
        drop(state);
        wake_tree(covered, DONE);
    }

    /// Announces a leader fdatasync; called by the flush that precedes it, under the writer
    /// lock, so a roll (which holds that lock) sees every fdatasync that could overlap its own.
    pub fn begin_fsync(&self) {
        self.state.lock().fsyncs_in_flight += 1;
    }

    /// Waits until no leader fdatasync runs and fails if the log is poisoned. A roll calls it
    /// (holding the writer lock, so no new leader fdatasync can start) before its own
    /// fdatasync of the old segment: two fdatasyncs of one file must never overlap, because
    /// when one fails Linux drops the pages and may report success to the other.
    pub fn exclusive_fsync_slot(&self) -> Result<()> {
        let mut state = self.state.lock();
        while state.fsyncs_in_flight > 0 {
            self.wake.wait(&mut state);
        }
        if state.poison.is_some() {
            return Err(self.poison_error(&state));
        }
        Ok(())
    }

    /// Returns once every offset below `target` is durable, leading a commit if none runs.
    ///
    /// `flush` writes the pending batches (under the writer lock) and says what to fdatasync;
    /// `on_durable` runs with each newly durable offset.
    pub fn wait_durable(
        &self,
        target: u64,
        flush: &dyn Fn() -> Result<Flushed>,
        on_durable: &dyn Fn(u64),
    ) -> Result<()> {
        loop {
            if self.durable_offset() >= target {
                return Ok(());
            }
            let mut state = self.state.lock();
            if self.durable_offset() >= target {
                return Ok(());
            }
            if state.poison.is_some() {
                return Err(self.poison_error(&state));
            }
            if state.syncing {
                let waiter = Arc::new(Waiter {
                    target,
                    thread: std::thread::current(),
                    signal: AtomicU8::new(WAITING),
                    children: Mutex::new(Vec::new()),
                });
                state.waiters.push(Arc::clone(&waiter));
                if state.waiters.len() >= state.gather_goal {
                    self.gather_met.store(true, Ordering::Release);
                    if let Some(gatherer) = state.gatherer.take() {
                        gatherer.unpark();
                    }
                }
                drop(state);
                match waiter.wait() {
                    DONE => return Ok(()),
                    LEAD => self.gather(),
                    _ if self.durable_offset() >= target => return Ok(()),
                    _ => return Err(self.poison_error(&self.state.lock())),
                }
            } else {
                state.syncing = true;
                // Threads the last commit released a moment ago are about to append again.
                let recent = state
                    .released_at
                    .is_some_and(|at| at.elapsed() < state.last_fsync);
                drop(state);
                if recent {
                    self.gather();
                }
            }
            // This thread owns the commit (`syncing` is true on its behalf). A commit that
            // fails after a roll made this target durable does not fail this wait: the
            // error is reported to the batches it leaves not durable.
            match self.lead(flush, on_durable) {
                Err(error) if self.durable_offset() < target => return Err(error),
                // Everything appended was written and is durable, yet the target is not:
                // it lies beyond the end of the log, and no commit will ever reach it.
                Ok(written_offset) if written_offset < target => {
                    return Err(Error::InvalidArgument(format!(
                        "cannot wait for offset {target} to be durable: the log ends at {written_offset}"
                    )));
                }
                _ => {}
            }
        }
    }

    /// Runs one commit — write, fdatasync, publish — then hands the commit to a waiter that
    /// is not covered yet (or ends it) and wakes the covered ones.
    /// Returns the offset below which the flush wrote (and the fdatasync made durable) every
    /// appended batch.
    fn lead(&self, flush: &dyn Fn() -> Result<Flushed>, on_durable: &dyn Fn(u64)) -> Result<u64> {
        let flushed = match flush() {
            Ok(flushed) => flushed,
            Err(error) => {
                return Err(self.fail_commit(self.state.lock(), error));
            }
        };
        // The flush announced this fdatasync (`begin_fsync`).
        let fsync_started = Instant::now();
        let synced = flushed
            .file
            .sync_data()
            .map_err(|e| Error::io(&flushed.path, "fdatasync", e));
        let fsync_took = fsync_started.elapsed();
        if synced.is_ok() {
            let before = self
                .durable_offset
                .fetch_max(flushed.written_offset, Ordering::AcqRel);
            if flushed.written_offset > before {
                on_durable(flushed.written_offset);
            }
        }
        let mut state = self.state.lock();
        // Released under the lock that also records a failure, so a roll waiting for the
        // slot sees the poison.
        state.fsyncs_in_flight -= 1;
        if let Err(error) = synced {
            return Err(self.fail_commit(state, error));
        }
        state.last_fsync = fsync_took;
        let covered = Self::take_covered(&mut state, self.durable_offset());
        state.released_at = Some(Instant::now());
        let next_leader = if state.waiters.is_empty() {
            state.syncing = false;
            // The first of the released threads to append again leads; it waits for the
            // others (everyone released but itself).
            state.gather_goal = covered.len();
            None
        } else {
            let next = state.waiters.swap_remove(0);
            // The covered waiters and this thread are released now and usually append
            // again within microseconds.
            state.gather_goal = state.waiters.len() + covered.len() + 1;
            Some(next)
        };
        let roll_waits = state.fsyncs_in_flight == 0;
        drop(state);
        // The next commit starts first, so the disk never waits for the wake-ups.
        if let Some(next) = next_leader {
            next.wake(LEAD);
        }
        wake_tree(covered, DONE);
        if roll_waits {
            self.wake.notify_all();
        }
        Ok(flushed.written_offset)
    }

    /// Run by a designated leader, or by a new leader right after a commit released several
    /// threads, before its commit: waits until `gather_goal` threads wait
    /// for durability, or half the last fdatasync's time (at most 1 ms) has passed, whichever
    /// is first. Without it, N closed-loop appenders settle into two cohorts that take turns
    /// (one appends while the other's fdatasync runs), so each fdatasync covers N/2; with it,
    /// the threads just released join the next commit and one fdatasync covers nearly all N.
    /// The wait is bounded, so appenders that do not come back cost at most that much
    /// latency, and a lone appender never gathers (it finds no commit running). With more
    /// threads to wait for than `gather_goal_max` it does not wait at all (the cohorts then
    /// alternate, each fdatasync covering the threads that appended during the previous one).
    ///
    /// Like a waiter, the gatherer first yields its CPU up to `SPIN_YIELDS_BEFORE_PARK`
    /// times, checking `gather_met` in between, and only then parks: the threads it waits for
    /// need the CPU to append, and a parked gatherer needs a futex wake-up (and a turn on a
    /// CPU behind the yielding waiters) before the commit can start. Measured on the 2-vCPU
    /// VM (`examples/producers.rs`, 3 s, five interleaved runs each, 2026-12-06), medians of
    /// sends/s parking at once → yielding first: 4 producer threads 14.0 k → 17.9 k, 8
    /// threads 33.5 k → 44.2 k, 16 threads 80.0 k → 89.4 k; one thread (it never gathers)
    /// 7.5 k and 8.0 k, within the spread.
    fn gather(&self) {
        let state = self.state.lock();
        if !state.gathering_pays() {
            return;
        }
        let deadline = Instant::now() + (state.last_fsync / 2).min(Duration::from_millis(1));
        if state.waiters.len() >= state.gather_goal {
            return;
        }
        // Under the lock, as every store of `true` is: a later store is for this gathering.
        self.gather_met.store(false, Ordering::Release);
        drop(state);
        for _ in 0..SPIN_YIELDS_BEFORE_PARK {
            if self.gather_met.load(Ordering::Acquire)
                || self.poisoned.load(Ordering::Acquire)
                || Instant::now() >= deadline
            {
                return;
            }
            std::thread::yield_now();
        }
        let mut state = self.state.lock();
        while state.waiters.len() < state.gather_goal && state.poison.is_none() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state.gatherer = Some(std::thread::current());
            parking_lot::MutexGuard::unlocked(&mut state, || {
                std::thread::park_timeout(deadline - now);
            });
        }
        state.gatherer = None;
    }

    /// Ends a failed commit: poisons the log and fails every waiter; returns the error.
    fn fail_commit(&self, mut state: MutexGuard<'_, CommitState>, error: Error) -> Error {
        state.syncing = false;
        self.poison_and_release(state, &error);
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(gather_goal: usize, gather_goal_max: usize) -> CommitState {
        CommitState {
            syncing: true,
            fsyncs_in_flight: 0,
            poison: None,
            waiters: Vec::new(),
            gather_goal,
            gatherer: None,
            last_fsync: Duration::from_micros(100),
            released_at: None,
            gather_goal_max: Some(gather_goal_max),
        }
    }

    fn waiter_of(thread: Thread) -> Arc<Waiter> {
        Arc::new(Waiter {
            target: 1,
            thread,
            signal: AtomicU8::new(WAITING),
            children: Mutex::new(Vec::new()),
        })
    }

    #[test]
    fn released_waiters_need_not_wait_for_their_parent_in_the_tree() {
        // The tree's root belongs to a thread that is busy elsewhere and does not run its
        // `wait` (where it would wake its two children). The children, which reach their
        // `wait` only after the release, must still see it: the leader stores every signal
        // before it starts the tree.
        let (busy_tx, busy_rx) = std::sync::mpsc::channel::<()>();
        let busy = std::thread::spawn(move || busy_rx.recv());
        let root = waiter_of(busy.thread().clone());
        let (signals_tx, signals_rx) = std::sync::mpsc::channel();
        let mut children = Vec::new();
        let mut handoffs = Vec::new();
        for _ in 0..2 {
            let (waiter_tx, waiter_rx) = std::sync::mpsc::channel::<Arc<Waiter>>();
            let signals_tx = signals_tx.clone();
            let child = std::thread::spawn(move || {
                let waiter = waiter_rx.recv().unwrap();
                signals_tx.send(waiter.wait()).unwrap();
            });
            children.push(waiter_of(child.thread().clone()));
            handoffs.push(waiter_tx);
        }
        let mut released = vec![root];
        released.extend(children.iter().cloned());
        wake_tree(released, DONE);
        for (waiter, handoff) in children.into_iter().zip(handoffs) {
            handoff.send(waiter).unwrap();
        }
        for _ in 0..2 {
            let signal = signals_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("a released waiter stayed blocked behind its parent in the tree");
            assert_eq!(signal, DONE);
        }
        busy_tx.send(()).unwrap();
        busy.join().unwrap().unwrap();
    }

    /// Polls until `commit` has `count` registered waiters (panics after 10 s).
    fn await_waiters(commit: &GroupCommit, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while commit.state.lock().waiters.len() < count {
            assert!(
                Instant::now() < deadline,
                "{count} waiters never registered"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn the_waiter_that_completes_a_gathering_tells_the_yielding_gatherer() {
        let commit = GroupCommit::new(Arc::new(crate::fs::RealFs), PathBuf::from("."), 0);
        {
            // A leader owns the commit and gathers for two waiters.
            let mut state = commit.state.lock();
            state.syncing = true;
            state.gather_goal = 2;
        }
        let no_flush = || -> Result<Flushed> { unreachable!("a waiter never leads here") };
        std::thread::scope(|scope| {
            let wait = || commit.wait_durable(1, &no_flush, &|_| {});
            let first = scope.spawn(wait);
            await_waiters(&commit, 1);
            let met_with_one = commit.gather_met.load(Ordering::Acquire);
            let second = scope.spawn(wait);
            await_waiters(&commit, 2);
            let met_with_two = commit.gather_met.load(Ordering::Acquire);
            // Released before asserting, so a failure does not leave the scope hanging.
            commit.mark_durable(1);
            for waiter in [first, second] {
                assert!(waiter.join().unwrap().is_ok());
            }
            assert!(!met_with_one, "one waiter of two met the gathering");
            assert!(met_with_two, "the second waiter did not tell the gatherer");
        });
    }

    #[test]
    fn gathering_waits_only_for_few_threads_per_cpu() {
        assert!(state(0, 16).gathering_pays());
        assert!(state(16, 16).gathering_pays());
        assert!(!state(17, 16).gathering_pays());
        assert!(!state(64, 16).gathering_pays());
    }
}
