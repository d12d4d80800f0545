//! Running a [`Workload`] on a [`SimFs`] against a [`Model`], handling failures the way an
//! application would.
//!
//! - Steps between two `Reopen` steps form a phase; its steps are taken in order by
//!   `workload.threads` threads from a shared cursor (one thread: strictly in order).
//! - When the machine goes down (the crash point), the run stops: [`RunEnd::Halted`].
//! - When an append or sync fails on an injected fault, the run checks invariant 8 (a fresh
//!   append on the same handle must fail too), kills the process ([`SimFs::kill`]), reopens
//!   the log, checks it against the model, and goes on with the remaining steps.
//! - A failed retention call on an injected fault is tolerated (it does not poison the log).
//! - Any failure with no injected fault and the machine up is a [`Violation`].

use super::check::check_log;
use super::model::Model;
use super::violation::Violation;
use super::workload::{Step, Workload};
use crate::SimFs;
use logq_log::{Error, Log, Record};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every step ran.
    Completed,
    /// The machine went down at its crash point.
    Halted,
}

/// The outcome of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepEnd {
    Done,
    Halted,
    /// An append or sync failed on an injected fault: the handle must be poisoned.
    Faulted,
}

/// What a failed operation means.
fn classify(
    fs: &SimFs,
    faults_before: u64,
    during: &'static str,
    error: &Error,
) -> Result<StepEnd, Violation> {
    if fs.is_halted() {
        return Ok(StepEnd::Halted);
    }
    let fault_now = fs.faults_fired() > faults_before;
    let poisoned_by_fault = matches!(error, Error::Poisoned { .. }) && fs.faults_fired() > 0;
    if fault_now || poisoned_by_fault {
        return Ok(StepEnd::Faulted);
    }
    Err(Violation::UnexpectedError {
        during,
        error: error.to_string(),
    })
}

/// Runs `workload` on `fs` (which must hold no log yet), recording in `model`.
pub fn run(fs: &SimFs, workload: &Workload, model: &Mutex<Model>) -> Result<RunEnd, Violation> {
    let Some(mut log) = open_log(fs, workload, model)? else {
        return Ok(RunEnd::Halted);
    };
    let phases: Vec<&[Step]> = workload
        .steps
        .split(|s| matches!(s, Step::Reopen))
        .collect();
    for (number, phase) in phases.iter().enumerate() {
        let cursor = AtomicUsize::new(0);
        while cursor.load(Ordering::Acquire) < phase.len() {
            match run_phase(fs, &log, phase, &cursor, workload.threads, model)? {
                StepEnd::Done => {}
                StepEnd::Halted => return Ok(RunEnd::Halted),
                StepEnd::Faulted => {
                    check_poisoned(&log, model)?;
                    drop(log);
                    fs.kill();
                    log = match open_log(fs, workload, model)? {
                        Some(log) => log,
                        None => return Ok(RunEnd::Halted),
                    };
                }
            }
        }
        if number + 1 < phases.len() {
            let before = fs.faults_fired();
            if let Err(error) = log.close() {
                match classify(fs, before, "close", &error)? {
                    StepEnd::Halted => return Ok(RunEnd::Halted),
                    _ => fs.kill(),
                }
            }
            log = match open_log(fs, workload, model)? {
                Some(log) => log,
                None => return Ok(RunEnd::Halted),
            };
        }
    }
    Ok(RunEnd::Completed)
}

/// Runs steps of `phase` from `cursor` on `threads` threads until all are done or one ends
/// otherwise.
fn run_phase(
    fs: &SimFs,
    log: &Log,
    phase: &[Step],
    cursor: &AtomicUsize,
    threads: usize,
    model: &Mutex<Model>,
) -> Result<StepEnd, Violation> {
    let stop = AtomicBool::new(false);
    let worker = || -> Result<StepEnd, Violation> {
        while !stop.load(Ordering::Acquire) {
            let Some(step) = phase.get(cursor.fetch_add(1, Ordering::AcqRel)) else {
                break;
            };
            let end = exec_step(fs, log, step, model);
            if !matches!(end, Ok(StepEnd::Done)) {
                stop.store(true, Ordering::Release);
                return end;
            }
        }
        Ok(StepEnd::Done)
    };
    let ends: Vec<Result<StepEnd, Violation>> = if threads <= 1 {
        vec![worker()]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Violation::UnexpectedError {
                            during: "workload thread",
                            error: "panicked".into(),
                        })
                    })
                })
                .collect()
        })
    };
    let mut worst = StepEnd::Done;
    for end in ends {
        match end? {
            StepEnd::Halted => worst = StepEnd::Halted,
            StepEnd::Faulted if worst == StepEnd::Done => worst = StepEnd::Faulted,
            _ => {}
        }
    }
    if worst == StepEnd::Halted || fs.is_halted() {
        return Ok(StepEnd::Halted);
    }
    Ok(worst)
}

fn exec_step(
    fs: &SimFs,
    log: &Log,
    step: &Step,
    model: &Mutex<Model>,
) -> Result<StepEnd, Violation> {
    let before = fs.faults_fired();
    match step {
        Step::Append { sizes } => append(fs, log, sizes, model),
        Step::Sync => {
            let covered = model.lock().not_yet_durable();
            match log.sync() {
                Ok(()) => {
                    model.lock().synced(&covered);
                    Ok(StepEnd::Done)
                }
                Err(error) => classify(fs, before, "sync", &error),
            }
        }
        Step::Retain { keep } => {
            let below = log.next_offset().saturating_sub(*keep);
            model.lock().note_retention(below);
            match log.remove_segments_before(below) {
                Ok(_) => Ok(StepEnd::Done),
                Err(error) => match classify(fs, before, "remove_segments_before", &error)? {
                    StepEnd::Halted => Ok(StepEnd::Halted),
                    _ => Ok(StepEnd::Done),
                },
            }
        }
        Step::Reopen => Ok(StepEnd::Done),
    }
}

fn append(
    fs: &SimFs,
    log: &Log,
    sizes: &[usize],
    model: &Mutex<Model>,
) -> Result<StepEnd, Violation> {
    let before = fs.faults_fired();
    let (id, payloads) = model.lock().send(sizes);
    let records: Vec<Record<'_>> = payloads.iter().map(|p| Record::new(p)).collect();
    match log.append(&records) {
        Ok(range) => {
            let count = u64::try_from(payloads.len()).unwrap_or(u64::MAX);
            if range.end.checked_sub(range.start) != Some(count) {
                return Err(Violation::BadAppendRange {
                    batch: id,
                    returned: range,
                });
            }
            if log_promises_durability(log) {
                model.lock().ack(id, range);
            } else {
                model.lock().returned(id, range);
            }
            Ok(StepEnd::Done)
        }
        Err(error) => classify(fs, before, "append", &error),
    }
}

/// Whether an append that returned `Ok` is durable (`Durability::Always`).
fn log_promises_durability(log: &Log) -> bool {
    log.durability() == logq_log::Durability::Always
}

/// Invariant 8: after a failed append or sync, a fresh append on the handle fails.
fn check_poisoned(log: &Log, model: &Mutex<Model>) -> Result<(), Violation> {
    let (id, payloads) = model.lock().send(&[24]);
    let records: Vec<Record<'_>> = payloads.iter().map(|p| Record::new(p)).collect();
    match log.append(&records) {
        Ok(range) => {
            model.lock().ack(id, range);
            Err(Violation::AckAfterFailure { batch: id })
        }
        Err(_) => Ok(()),
    }
}

/// Opens the log, retrying after injected faults (with a kill between tries), and checks it
/// against the model. `None` when the machine went down meanwhile.
pub fn open_log(
    fs: &SimFs,
    workload: &Workload,
    model: &Mutex<Model>,
) -> Result<Option<Log>, Violation> {
    for _attempt in 0..4 {
        let before = fs.faults_fired();
        match Log::open(workload.dir(), workload.options(fs)) {
            Ok(log) => {
                if fs.is_halted() {
                    return Ok(None);
                }
                let checked = check_log(&log, &model.lock());
                if fs.is_halted() {
                    return Ok(None);
                }
                checked?;
                return Ok(Some(log));
            }
            Err(error) => {
                if fs.is_halted() {
                    return Ok(None);
                }
                if error.is_corruption() || fs.faults_fired() == before {
                    return Err(Violation::RecoveryFailed {
                        error: error.to_string(),
                    });
                }
                fs.kill();
            }
        }
    }
    Err(Violation::RecoveryFailed {
        error: "open still failing after 4 attempts with injected faults".into(),
    })
}
