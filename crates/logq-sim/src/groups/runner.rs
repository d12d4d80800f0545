//! Running a [`GroupWorkload`] on a [`SimFs`] against a [`GroupModel`], handling failures the
//! way an application would.
//!
//! - When the machine goes down (the crash point) the run stops: [`RunEnd::Halted`].
//! - When a call fails on an injected fault, invariant 8 is checked: if the fault hit a
//!   journal write or fdatasync, a fresh journalled call on the same handle must fail too.
//!   Then the process is killed, the store reopened and checked, and the run goes on.
//! - A refusal of the group state (`StoreError::Group`, e.g. acking an offset whose lease
//!   moved on) is an answer, not a failure.
//! - Any other failure with no injected fault and the machine up is a [`Breach`].

use super::check::{check_attempts, check_statuses};
use super::model::GroupModel;
use super::workload::{GroupStep, GroupWorkload, GROUP_NAMES};
use crate::explore::RunEnd;
use crate::fault::OpKind;
use crate::scenario::{Breach, Invariant};
use crate::SimFs;
use logq_offsets::{OffsetStore, StartPosition, StoreError};

/// How one step ended.
enum StepEnd {
    Done,
    Halted,
    /// Failed on an injected fault; `poisoned` when the journal must refuse further writes.
    Faulted {
        poisoned: bool,
    },
}

/// Fault counters before a call, to tell what an error was caused by.
struct Before {
    fired: u64,
    data_faults: u64,
}

/// Faults fired on writes and fdatasyncs: the kinds whose failure must poison a log.
pub(crate) fn data_faults(fs: &SimFs) -> u64 {
    fs.faults_fired_on(OpKind::Write) + fs.faults_fired_on(OpKind::SyncData)
}

impl Before {
    fn take(fs: &SimFs) -> Self {
        Before {
            fired: fs.faults_fired(),
            data_faults: data_faults(fs),
        }
    }

    /// Whether a write or fdatasync failed since `self`.
    fn data_fault_since(&self, fs: &SimFs) -> bool {
        data_faults(fs) > self.data_faults
    }
}

fn classify(
    fs: &SimFs,
    before: &Before,
    during: &str,
    error: &StoreError,
) -> Result<StepEnd, Breach> {
    if fs.is_halted() {
        return Ok(StepEnd::Halted);
    }
    if matches!(error, StoreError::Group { .. }) {
        return Ok(StepEnd::Done);
    }
    if fs.faults_fired() > before.fired {
        let poisoned = matches!(
            error,
            StoreError::Log(logq_log::Error::Io { .. } | logq_log::Error::Poisoned { .. })
        ) && before.data_fault_since(fs);
        return Ok(StepEnd::Faulted { poisoned });
    }
    Err(Breach::new(
        Invariant::UnexpectedError,
        format!("{during} failed with no fault injected: {error}"),
    ))
}

/// Opens the store, retrying after injected faults (with a kill between tries), and checks
/// it against the model (kill-level: attempts too, when `after_kill`). `None` when the
/// machine went down meanwhile.
fn open_store(
    fs: &SimFs,
    workload: &GroupWorkload,
    model: &GroupModel,
    after_kill: bool,
) -> Result<Option<OffsetStore>, Breach> {
    for _attempt in 0..4 {
        let before = fs.faults_fired();
        match OffsetStore::open(workload.dir(), workload.options(fs)) {
            Ok(store) => {
                if fs.is_halted() {
                    return Ok(None);
                }
                check_statuses(&store, model)?;
                if after_kill {
                    check_attempts(&store, model)?;
                }
                return Ok(Some(store));
            }
            Err(error) => {
                if fs.is_halted() {
                    return Ok(None);
                }
                if fs.faults_fired() == before {
                    return Err(Breach::new(Invariant::RecoveryFailed, error.to_string()));
                }
                fs.kill();
            }
        }
    }
    Err(Breach::new(
        Invariant::RecoveryFailed,
        "open still failing after 4 attempts with injected faults",
    ))
}

/// Runs `workload` on `fs` (which must hold no store yet), recording in `model`.
pub fn run_groups(
    fs: &SimFs,
    workload: &GroupWorkload,
    model: &mut GroupModel,
) -> Result<RunEnd, Breach> {
    let Some(mut store) = open_store(fs, workload, model, false)? else {
        return Ok(RunEnd::Halted);
    };
    let trace = std::env::var_os("LOGQ_SIM_TRACE").is_some();
    for (index, step) in workload.steps.iter().enumerate() {
        let ops_before = fs.ops();
        let end = match step {
            GroupStep::Reopen => {
                let before = Before::take(fs);
                match store.close() {
                    Ok(()) => StepEnd::Faulted { poisoned: false },
                    Err(error) => classify(fs, &before, "close", &error)?,
                }
            }
            GroupStep::Kill => StepEnd::Faulted { poisoned: false },
            _ => exec_step(fs, &store, step, index, model)?,
        };
        if trace {
            let what = match &end {
                StepEnd::Done => "done".to_owned(),
                StepEnd::Halted => "halted".to_owned(),
                StepEnd::Faulted { poisoned } => format!("faulted (poisoned: {poisoned})"),
            };
            eprintln!(
                "step {index} {step:?}: ops {ops_before}..{}: {what}",
                fs.ops()
            );
        }
        match end {
            StepEnd::Done => {}
            StepEnd::Halted => return Ok(RunEnd::Halted),
            StepEnd::Faulted { poisoned } => {
                if poisoned {
                    probe(fs, &store, model)?;
                }
                drop(store);
                fs.kill();
                store = match open_store(fs, workload, model, true)? {
                    Some(store) => store,
                    None => return Ok(RunEnd::Halted),
                };
            }
        }
    }
    Ok(RunEnd::Completed)
}

/// Invariant 8: after a journal write or fdatasync failed, a new journalled call fails.
fn probe(fs: &SimFs, store: &OffsetStore, model: &mut GroupModel) -> Result<(), Breach> {
    model.probes += 1;
    let name = format!("probe-{}", model.probes);
    match store.ensure_group(&name, StartPosition::Earliest, 0, model.log_end) {
        Ok(_) if !fs.is_halted() => Err(Breach::new(
            Invariant::NoDurabilityAfterError,
            format!("ensure_group({name:?}) returned Ok after a journal write failed"),
        )),
        _ => Ok(()),
    }
}

fn exec_step(
    fs: &SimFs,
    store: &OffsetStore,
    step: &GroupStep,
    index: usize,
    model: &mut GroupModel,
) -> Result<StepEnd, Breach> {
    let before = Before::take(fs);
    let now = model.now_ms;
    let log_end = model.log_end;
    let fail = |error: StoreError, during: &str| classify(fs, &before, during, &error);
    let group_of = |g: usize| GROUP_NAMES[g % GROUP_NAMES.len()];
    match step {
        GroupStep::Produce { messages } => {
            model.log_end += messages;
            Ok(StepEnd::Done)
        }
        GroupStep::Advance { ms } => {
            model.now_ms += ms;
            Ok(StepEnd::Done)
        }
        GroupStep::Ensure { group } => {
            match store.ensure_group(group_of(*group), StartPosition::Earliest, 0, log_end) {
                Ok(_) => {
                    model.track(*group).created = true;
                    Ok(StepEnd::Done)
                }
                Err(e) => fail(e, "ensure_group"),
            }
        }
        GroupStep::Checkpoint => match store.checkpoint() {
            Ok(()) => Ok(StepEnd::Done),
            Err(e) => fail(e, "checkpoint"),
        },
        GroupStep::Deliver { group } => {
            if !model.track(*group).created {
                return Ok(StepEnd::Done);
            }
            match store.deliver_next(group_of(*group), 1, now, log_end) {
                Ok(Some(delivery)) => {
                    let track = model.track(*group);
                    if let Some(outcome) = track.acked_ok.get(&delivery.offset) {
                        return Err(Breach::new(
                            Invariant::AcksStick,
                            format!(
                                "group {}: offset {} delivered (attempt {}) after its ack returned Ok (outcome {outcome:?})",
                                group_of(*group),
                                delivery.offset,
                                delivery.lease.attempt
                            ),
                        ));
                    }
                    let seen = track.attempts.entry(delivery.offset).or_insert(0);
                    *seen = (*seen).max(delivery.lease.attempt);
                    track.drop_held(delivery.offset);
                    track.held.push(delivery.offset);
                    Ok(StepEnd::Done)
                }
                Ok(None) => Ok(StepEnd::Done),
                Err(e) => fail(e, "deliver_next"),
            }
        }
        GroupStep::Ack { group, pick }
        | GroupStep::AckOutcome { group, pick }
        | GroupStep::AckAsync { group, pick, .. } => {
            let Some(offset) = model.track(*group).pick(*pick) else {
                return Ok(StepEnd::Done);
            };
            let with_outcome = matches!(
                step,
                GroupStep::AckOutcome { .. }
                    | GroupStep::AckAsync {
                        with_outcome: true,
                        ..
                    }
            );
            let outcome = with_outcome.then(|| GroupModel::outcome_for(offset, index));
            let track = model.track(*group);
            track
                .acked_tried
                .entry(offset)
                .or_default()
                .push(outcome.clone());
            let result = match (step, &outcome) {
                (GroupStep::AckAsync { .. }, outcome) => futures::executor::block_on(
                    store.ack_async(group_of(*group), offset, outcome.as_deref()),
                ),
                (_, Some(bytes)) => store.ack_with_outcome(group_of(*group), offset, bytes),
                (_, None) => store.ack(group_of(*group), offset),
            };
            match result {
                Ok(newly) => {
                    track.drop_held(offset);
                    if newly {
                        track.acked_ok.entry(offset).or_insert(outcome);
                    }
                    Ok(StepEnd::Done)
                }
                Err(e) => fail(e, "ack"),
            }
        }
        GroupStep::Nack {
            group,
            pick,
            delay_ms,
        } => {
            let Some(offset) = model.track(*group).pick(*pick) else {
                return Ok(StepEnd::Done);
            };
            let result = store.nack(group_of(*group), offset, *delay_ms, now);
            model.track(*group).drop_held(offset);
            match result {
                Ok(_) => Ok(StepEnd::Done),
                Err(e) => fail(e, "nack"),
            }
        }
        GroupStep::Release { group, pick } => {
            let Some(offset) = model.track(*group).pick(*pick) else {
                return Ok(StepEnd::Done);
            };
            let result = store.release(group_of(*group), offset);
            model.track(*group).drop_held(offset);
            match result {
                Ok(()) => Ok(StepEnd::Done),
                Err(e) => fail(e, "release"),
            }
        }
        GroupStep::Extend { group, pick } => {
            let Some(offset) = model.track(*group).pick(*pick) else {
                return Ok(StepEnd::Done);
            };
            match store.extend(group_of(*group), offset, 1, 200, now) {
                Ok(_) => Ok(StepEnd::Done),
                Err(e) => fail(e, "extend"),
            }
        }
        GroupStep::DeadLetter { group } => {
            if !model.track(*group).created {
                return Ok(StepEnd::Done);
            }
            let candidates = match store.dead_letter_candidates(group_of(*group), now) {
                Ok(c) => c,
                Err(e) => return fail(e, "dead_letter_candidates"),
            };
            for offset in candidates {
                let track = model.track(*group);
                track.dead_tried.insert(offset);
                match store.dead_letter(group_of(*group), offset, "too many deliveries") {
                    Ok(()) => {
                        track.dead_ok.insert(offset);
                        track.drop_held(offset);
                    }
                    Err(e) => {
                        let end = classify(fs, &before, "dead_letter", &e)?;
                        if !matches!(end, StepEnd::Done) {
                            return Ok(end);
                        }
                    }
                }
            }
            Ok(StepEnd::Done)
        }
        GroupStep::Reopen | GroupStep::Kill => Ok(StepEnd::Done),
    }
}
