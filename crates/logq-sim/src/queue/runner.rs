//! Running a [`QueueWorkload`] on a [`SimFs`] through the real [`logq::Store`], against a
//! [`QueueModel`], handling failures the way an application would.
//!
//! - When the machine goes down (the crash point) the run stops: [`RunEnd::Halted`].
//! - When a call fails on an injected fault, invariant 8 is checked: if the fault hit a write
//!   or fdatasync of a log (messages or group journal), a fresh write through the same handle
//!   must fail too. Then the process is killed (no destructors run), the store reopened and
//!   checked, and the run goes on.
//! - Every delivery is checked on the spot: its payload was sent, at that id, and its ack
//!   never returned `Ok` in that group.

use super::check::check_store;
use super::model::{dedup_id, QueueModel};
use super::workload::{
    Decision, QueueStep, QueueWorkload, DEAD_LETTER_QUEUE, QUEUE, QUEUE_GROUPS, STORE_DIR,
};
use crate::explore::RunEnd;
use crate::groups::data_faults;
use crate::scenario::{ensure, Breach, Invariant};
use crate::SimFs;
use logq::{Consumer, Delivery, Error, Message, Queue, Store};
use logq_offsets::StoreError;
use std::sync::Arc;
use std::time::Duration;

/// An open store with the handles a workload uses.
pub struct Session {
    /// The store.
    pub store: Store,
    /// The queue under test.
    pub queue: Queue,
    consumers: Vec<Option<Consumer>>,
    held: Vec<(usize, Delivery)>,
}

/// Opens the store and both queues on `fs`.
pub fn open_store(fs: &SimFs, workload: &QueueWorkload) -> logq::Result<(Store, Queue, Queue)> {
    let store = Store::open_with_file_system(STORE_DIR, workload.options(), Arc::new(fs.clone()))?;
    let queue = store.queue(QUEUE)?;
    let dead_letters = store.queue(DEAD_LETTER_QUEUE)?;
    Ok((store, queue, dead_letters))
}

enum StepEnd {
    Done,
    Halted,
    /// Failed on an injected fault; the probe that must fail now, if any.
    Faulted(Option<Probe>),
}

/// A write that must fail after a fault poisoned a log.
enum Probe {
    /// A send to this queue.
    Send(String),
    /// Creating a group (a journal write) in the queue under test.
    Group,
}

struct Before {
    fired: u64,
    data_faults: u64,
}

impl Before {
    fn take(fs: &SimFs) -> Self {
        Before {
            fired: fs.faults_fired(),
            data_faults: data_faults(fs),
        }
    }
}

fn is_poisoning(error: &logq_log::Error) -> bool {
    matches!(
        error,
        logq_log::Error::Io { .. } | logq_log::Error::Poisoned { .. }
    )
}

fn classify(fs: &SimFs, before: &Before, during: &str, error: &Error) -> Result<StepEnd, Breach> {
    if fs.is_halted() {
        return Ok(StepEnd::Halted);
    }
    if matches!(
        error,
        Error::Groups {
            source: StoreError::Group { .. },
            ..
        }
    ) {
        return Ok(StepEnd::Done);
    }
    if fs.faults_fired() > before.fired {
        let data = data_faults(fs) > before.data_faults;
        let probe = match error {
            Error::Log { queue, source } if data && is_poisoning(source) => {
                Some(Probe::Send(queue.clone()))
            }
            Error::Groups {
                queue,
                source: StoreError::Log(source),
            } if data && is_poisoning(source) && queue == QUEUE => Some(Probe::Group),
            _ => None,
        };
        return Ok(StepEnd::Faulted(probe));
    }
    Err(Breach::new(
        Invariant::UnexpectedError,
        format!("{during} failed with no fault injected: {error}"),
    ))
}

fn open_session(
    fs: &SimFs,
    workload: &QueueWorkload,
    model: &QueueModel,
) -> Result<Option<Session>, Breach> {
    for _attempt in 0..4 {
        let before = fs.faults_fired();
        match open_store(fs, workload) {
            Ok((store, queue, _)) => {
                if fs.is_halted() {
                    return Ok(None);
                }
                if let Err(breach) = check_store(&store, model) {
                    // The crash point can fall on a read of the check itself (a journal
                    // mapped to read an outcome): that is the machine going down, not a breach.
                    if fs.is_halted() {
                        return Ok(None);
                    }
                    return Err(breach);
                }
                return Ok(Some(Session {
                    store,
                    queue,
                    consumers: vec![None; QUEUE_GROUPS.len()],
                    held: Vec::new(),
                }));
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

/// The process dies: no destructor of a held delivery runs (it would release the lease).
fn die(session: Session, fs: &SimFs) {
    for (_, delivery) in session.held {
        std::mem::forget(delivery);
    }
    drop(session.consumers);
    drop(session.queue);
    drop(session.store);
    fs.kill();
}

/// Runs `workload` on `fs` (which must hold no store yet), recording in `model`.
pub fn run_queue(
    fs: &SimFs,
    workload: &QueueWorkload,
    model: &mut QueueModel,
) -> Result<RunEnd, Breach> {
    let Some(mut session) = open_session(fs, workload, model)? else {
        return Ok(RunEnd::Halted);
    };
    let trace = std::env::var_os("LOGQ_SIM_TRACE").is_some();
    for (index, step) in workload.steps.iter().enumerate() {
        let ops_before = fs.ops();
        let end = match step {
            QueueStep::Reopen => {
                session.held.clear(); // dropped without a decision: released
                let before = Before::take(fs);
                match session.store.close() {
                    Ok(()) => StepEnd::Faulted(None),
                    Err(error) => classify(fs, &before, "close", &error)?,
                }
            }
            QueueStep::Kill => StepEnd::Faulted(None),
            _ => exec_step(fs, &mut session, step, index, model)?,
        };
        if trace {
            let what = match &end {
                StepEnd::Done => "done",
                StepEnd::Halted => "halted",
                StepEnd::Faulted(_) => "faulted or restarted",
            };
            eprintln!(
                "step {index} {step:?}: ops {ops_before}..{}: {what}",
                fs.ops()
            );
        }
        match end {
            StepEnd::Done => {}
            StepEnd::Halted => return Ok(RunEnd::Halted),
            StepEnd::Faulted(probe) => {
                if let Some(probe) = probe {
                    run_probe(fs, &session, &probe, model)?;
                }
                die(session, fs);
                session = match open_session(fs, workload, model)? {
                    Some(session) => session,
                    None => return Ok(RunEnd::Halted),
                };
            }
        }
    }
    Ok(RunEnd::Completed)
}

/// Invariant 8: after a log write or fdatasync failed, a new write through it fails.
fn run_probe(
    fs: &SimFs,
    session: &Session,
    probe: &Probe,
    model: &mut QueueModel,
) -> Result<(), Breach> {
    model.probes += 1;
    let result = match probe {
        Probe::Send(queue) => {
            let indices = model.send(&[(12, None)]);
            let payload = model.messages[indices[0]].payload.clone();
            let sent = session
                .store
                .queue(queue)
                .and_then(|q| q.send(Message::new(payload)));
            if let (Ok(id), true) = (&sent, queue == QUEUE) {
                model.sent(&indices, &[id.0]);
            }
            sent.map(drop)
        }
        Probe::Group => session
            .queue
            .consumer(&format!("probe-{}", model.probes))
            .map(drop),
    };
    ensure(
        result.is_err() || fs.is_halted(),
        Invariant::NoDurabilityAfterError,
        || "a write returned Ok on a handle whose log write or fdatasync had failed".to_owned(),
    )
}

fn consumer(session: &mut Session, group: usize, model: &mut QueueModel) -> logq::Result<Consumer> {
    let slot = group % QUEUE_GROUPS.len();
    if let Some(consumer) = &session.consumers[slot] {
        return Ok(consumer.clone());
    }
    model.track(slot).created_tried = true;
    let floor = session.queue.id_range().0 .0;
    let consumer = session.queue.consumer(QUEUE_GROUPS[slot])?;
    let track = model.track(slot);
    track.created_ok = true;
    track.start_floor.get_or_insert(floor);
    session.consumers[slot] = Some(consumer.clone());
    Ok(consumer)
}

fn exec_step(
    fs: &SimFs,
    session: &mut Session,
    step: &QueueStep,
    index: usize,
    model: &mut QueueModel,
) -> Result<StepEnd, Breach> {
    let before = Before::take(fs);
    match step {
        QueueStep::Send { size, dedup } => {
            let indices = model.send(&[(*size, dedup.map(dedup_id))]);
            let message = to_message(model, indices[0]);
            match session.queue.send(message) {
                Ok(id) => {
                    model.sent(&indices, &[id.0]);
                    Ok(StepEnd::Done)
                }
                Err(e) => classify(fs, &before, "send", &e),
            }
        }
        QueueStep::SendBatch { messages } => {
            let specs: Vec<(usize, Option<String>)> = messages
                .iter()
                .map(|(s, d)| (*s, d.map(dedup_id)))
                .collect();
            let indices = model.send(&specs);
            let batch: Vec<Message> = indices.iter().map(|i| to_message(model, *i)).collect();
            match session.queue.send_batch(&batch) {
                Ok(ids) => {
                    let ids: Vec<u64> = ids.iter().map(|id| id.0).collect();
                    model.sent(&indices, &ids);
                    Ok(StepEnd::Done)
                }
                Err(e) => classify(fs, &before, "send_batch", &e),
            }
        }
        QueueStep::Receive { group, decision } => {
            let consumer = match consumer(session, *group, model) {
                Ok(c) => c,
                Err(e) => return classify(fs, &before, "consumer", &e),
            };
            match consumer.try_receive() {
                Ok(Some(delivery)) => {
                    check_delivery(&delivery, *group, model)?;
                    decide(fs, session, *group, delivery, *decision, index, model)
                }
                Ok(None) => Ok(StepEnd::Done),
                Err(e) => {
                    model.track(*group).failed_receives += 1;
                    classify(fs, &before, "receive", &e)
                }
            }
        }
        QueueStep::Settle { pick, decision } => {
            if session.held.is_empty() {
                return Ok(StepEnd::Done);
            }
            let at = pick % session.held.len();
            let (group, delivery) = session.held.remove(at);
            decide(fs, session, group, delivery, *decision, index, model)
        }
        QueueStep::Retention => match session.queue.enforce_retention() {
            Ok(()) => Ok(StepEnd::Done),
            Err(e) => classify(fs, &before, "enforce_retention", &e),
        },
        QueueStep::Sync => match session.queue.sync() {
            Ok(()) => Ok(StepEnd::Done),
            Err(e) => classify(fs, &before, "sync", &e),
        },
        QueueStep::Reopen | QueueStep::Kill => Ok(StepEnd::Done),
    }
}

fn to_message(model: &QueueModel, index: usize) -> Message {
    let sent = &model.messages[index];
    let message = Message::new(sent.payload.clone());
    match &sent.dedup {
        Some(id) => message.dedup_id(id.clone()),
        None => message,
    }
}

/// A delivery carries a payload that was sent, at the id its send returned, not acked `Ok`.
fn check_delivery(delivery: &Delivery, group: usize, model: &mut QueueModel) -> Result<(), Breach> {
    let id = delivery.id().0;
    let Some(&index) = model.by_payload.get(delivery.payload()) else {
        return Err(Breach::new(
            Invariant::Phantom,
            format!("delivered message {id} was never sent"),
        ));
    };
    let sent_id = model.messages[index].id;
    ensure(
        sent_id.is_none_or(|s| s == id),
        Invariant::Corruption,
        || format!("message {index} sent as id {sent_id:?} delivered as id {id}"),
    )?;
    let track = model.track(group);
    ensure(
        !track.acked_ok.contains_key(&id),
        Invariant::AcksStick,
        || {
            format!(
                "group {}: message {id} delivered (attempt {}) after its ack returned Ok",
                QUEUE_GROUPS[group],
                delivery.attempt()
            )
        },
    )?;
    let seen = track.attempts.entry(id).or_insert(0);
    *seen = (*seen).max(delivery.attempt());
    Ok(())
}

fn decide(
    fs: &SimFs,
    session: &mut Session,
    group: usize,
    delivery: Delivery,
    decision: Decision,
    index: usize,
    model: &mut QueueModel,
) -> Result<StepEnd, Breach> {
    let before = Before::take(fs);
    let id = delivery.id().0;
    let track = model.track(group);
    let result = match decision {
        Decision::Ack | Decision::AckOutcome => {
            let outcome =
                (decision == Decision::AckOutcome).then(|| QueueModel::outcome_for(id, index));
            track
                .acked_tried
                .entry(id)
                .or_default()
                .push(outcome.clone());
            let result = match &outcome {
                Some(bytes) => delivery.ack_with_outcome(bytes),
                None => delivery.ack(),
            };
            if result.is_ok() {
                track.acked_ok.entry(id).or_insert(outcome);
            }
            result
        }
        Decision::Nack => delivery.nack(Duration::ZERO),
        Decision::DeadLetter => {
            track.dead_tried.insert(id);
            let result = delivery.dead_letter("scripted dead letter");
            if result.is_ok() {
                track.dead_ok.insert(id);
            }
            result
        }
        Decision::Drop => {
            drop(delivery);
            // The release's error is only logged: a fault in it shows in the counters.
            if fs.is_halted() {
                return Ok(StepEnd::Halted);
            }
            if fs.faults_fired() > before.fired {
                return Ok(StepEnd::Faulted(None));
            }
            Ok(())
        }
        Decision::Hold => {
            session.held.push((group, delivery));
            Ok(())
        }
    };
    match result {
        Ok(()) => Ok(StepEnd::Done),
        Err(e) => classify(fs, &before, "decision", &e),
    }
}
