//! `logq demo [DIR]`: the order pipeline of a sales system on `logq::Store` — the main job.
//!
//! An order service thread sends orders (JSON; dedup id and key `o-<number>`; header
//! `type=order`) to queue `orders`, one durable send each. Two consumer groups, `payments`
//! and `inventory`, each with two consumer threads, process every order (a little CPU work)
//! and acknowledge it with an outcome (`paid:<amount>`, `reserved:<items>`); about 1% of
//! payments fail their first attempt and are nacked for a retry 50 ms later. The order
//! service then waits for the outcomes of a sample of its orders (`wait_outcome`).
//!
//! While it runs it prints a line about once a second (sent, acked per group, send and ack
//! throughput, depth per group, ack latency from `Queue::stats`); at the end a summary and
//! checks: every order of the run acknowledged exactly once per group with its outcome
//! (`status` of every order in the queue), depth 0, and a dedup check (re-sending 100 orders
//! with their dedup ids appends nothing).
//!
//! Runs continue each other on one directory: order numbers (and ids) keep growing, and a
//! run reports the orders earlier runs left. `--kill-after-ms` aborts the process mid-run;
//! the next run then checks, against the side files of [`witness`], that every order whose
//! send had returned is in the queue and every message whose ack had returned is still
//! acknowledged, and counts deliveries of messages acknowledged before it started (which
//! must be 0).

pub mod order;
pub mod report;
pub mod witness;
pub mod workers;

use crate::error::{output, CliError, Result};
use crate::figures::{human_size, thousands};
use crate::output::Table;
use crate::store_view::tree_bytes;
use crate::writable::open_store;
use crate::Outcome;
use logq::{Consumer, MessageId, Options, Queue, QueueOptions, Status};
use order::{Order, Service};
use parking_lot::Mutex;
use report::{group, ms, progress, progress_header, quantile, rate, Check, ProgressLine};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use witness::{RunState, WitnessDir};
use workers::{GroupTally, SampleReport, Shared};

/// The queue the demo uses.
pub const QUEUE: &str = "orders";
/// The directory used when none is given.
pub const DEFAULT_DIR: &str = "logq-data";
/// The demo stops with an error when nothing moved for this long.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Orders re-sent for the dedup check.
pub const DEDUP_RESENDS: usize = 100;
/// About this many orders of a run are looked up with `wait_outcome`.
pub const OUTCOME_SAMPLES: u64 = 100;

/// Arguments of `logq demo`.
#[derive(Clone, Debug)]
pub struct DemoArgs<'a> {
    /// The store directory (created if missing).
    pub dir: &'a Path,
    /// Orders to send.
    pub orders: u64,
    /// Abort the process this long after the start (a crash, for the next run to check).
    pub kill_after: Option<Duration>,
    /// Lease time of the queue's consumers (a lease left by a killed run ends after it).
    pub lease: Duration,
    /// Consumer threads per group.
    pub consumers: usize,
}

/// Per group: what the messages already in the queue were at the start.
#[derive(Debug, Default)]
struct Earlier {
    acked: Vec<bool>,
    acked_count: u64,
    unprocessed: u64,
    dead: u64,
}

fn scan_earlier(queue: &Queue, first: u64, end: u64) -> Result<Vec<Earlier>> {
    let mut groups = Vec::new();
    for service in Service::ALL {
        let mut earlier = Earlier::default();
        for id in first..end {
            let status = queue.status(MessageId(id), service.group())?;
            let acked = matches!(status, Status::Acked { .. });
            earlier.acked.push(acked);
            match status {
                Status::Acked { .. } => earlier.acked_count += 1,
                Status::DeadLettered { .. } => earlier.dead += 1,
                _ => earlier.unprocessed += 1,
            }
        }
        groups.push(earlier);
    }
    Ok(groups)
}

/// The order at `id`, if the message there is one.
fn order_at(queue: &Queue, id: u64) -> Option<Order> {
    queue
        .peek(MessageId(id))
        .ok()
        .and_then(|m| Order::from_payload(&m.payload))
}

/// Whether `id` is acknowledged in the service's group with the outcome its order calls for.
fn acked_with_outcome(queue: &Queue, id: u64, service: Service) -> Result<bool> {
    let Some(order) = order_at(queue, id) else {
        return Ok(false);
    };
    let expected = service.outcome(&order).into_bytes();
    Ok(queue.status(MessageId(id), service.group())?
        == Status::Acked {
            outcome: Some(expected),
        })
}

/// Checks the previous run's side files against the queue.
fn check_previous(queue: &Queue, dir: &WitnessDir, previous: RunState) -> Result<Vec<Check>> {
    let run = previous.run;
    let mut checks = Vec::new();
    let sent = dir.read_sent()?;
    let present = sent
        .iter()
        .filter(|(number, id)| order_at(queue, *id).is_some_and(|o| o.order == *number))
        .count();
    checks.push(Check::new(
        present == sent.len(),
        format!(
            "run {run}: {} orders recorded after their send returned; {} of them in `{QUEUE}` at their id",
            thousands(u64::try_from(sent.len()).unwrap_or(u64::MAX)),
            thousands(u64::try_from(present).unwrap_or(u64::MAX))
        ),
    ));
    for service in Service::ALL {
        let acked = dir.read_acked(service.group())?;
        let mut held = 0u64;
        for id in &acked {
            if acked_with_outcome(queue, *id, service)? {
                held += 1;
            }
        }
        checks.push(Check::new(
            held == u64::try_from(acked.len()).unwrap_or(u64::MAX),
            format!(
                "run {run}: {} acks by {} recorded after the ack returned; {} still Acked with their outcome",
                thousands(u64::try_from(acked.len()).unwrap_or(u64::MAX)),
                service.group(),
                thousands(held)
            ),
        ));
    }
    Ok(checks)
}

/// What the monitor saw last.
struct MonitorEnd {
    elapsed: Duration,
}

/// Prints a progress line about once a second until the order service is done and both
/// groups' depth is 0 (or a thread failed, or nothing moved for [`STALL_TIMEOUT`]).
fn monitor(
    queue: &Queue,
    shared: &Shared,
    out: &mut dyn Write,
    started: Instant,
) -> Result<MonitorEnd> {
    progress_header(out)?;
    let mut last_tick = started;
    let mut last_counts = (0u64, 0u64);
    let mut last_move = (Instant::now(), 0u64);
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if shared.error.lock().is_some() {
            return Ok(MonitorEnd {
                elapsed: started.elapsed(),
            });
        }
        let stats = queue.stats()?;
        let depth = Service::ALL.map(|s| group(&stats, s.group()).map_or(0, |g| g.depth));
        let done = shared.service_done.load(Ordering::SeqCst) && depth == [0, 0];
        let now = Instant::now();
        let sent = shared.sent.load(Ordering::Relaxed);
        let acked = shared.acked();
        let acked_sum: u64 = acked.iter().sum();
        if now.duration_since(last_tick) >= Duration::from_secs(1) || done {
            let seconds = now.duration_since(last_tick).as_secs_f64();
            progress(
                out,
                &ProgressLine {
                    elapsed_s: started.elapsed().as_secs_f64(),
                    sent,
                    send_rate: rate(sent - last_counts.0, seconds),
                    acked: [
                        acked.first().copied().unwrap_or(0),
                        acked.get(1).copied().unwrap_or(0),
                    ],
                    ack_rate: rate(acked_sum - last_counts.1, seconds),
                    depth,
                    latency_us: group(&stats, Service::Payments.group())
                        .and_then(|g| g.latency)
                        .map(|l| (l.p50_us, l.p99_us)),
                },
            )?;
            last_tick = now;
            last_counts = (sent, acked_sum);
            shared
                .witness
                .sync()
                .map_err(|e| CliError::Invalid(format!("syncing the demo's side files: {e}")))?;
        }
        if done {
            return Ok(MonitorEnd {
                elapsed: started.elapsed(),
            });
        }
        if sent + acked_sum != last_move.1 {
            last_move = (now, sent + acked_sum);
        } else if now.duration_since(last_move.0) > STALL_TIMEOUT {
            shared.fail(format!(
                "no progress for {} s (depth payments {}, inventory {})",
                STALL_TIMEOUT.as_secs(),
                depth[0],
                depth[1]
            ));
        }
    }
}

/// Starts the thread that aborts the process after `after` (`--kill-after-ms`).
fn start_killer(after: Duration, shared: Arc<Shared>) -> Result<()> {
    std::thread::Builder::new()
        .name("demo-killer".into())
        .spawn(move || {
            std::thread::sleep(after);
            let acked = shared.acked();
            eprintln!(
                "logq demo: --kill-after-ms {}: aborting the process now (sent {}, acked payments {}, inventory {}); run the demo again to check what survived",
                after.as_millis(),
                thousands(shared.sent.load(Ordering::Relaxed)),
                thousands(acked.first().copied().unwrap_or(0)),
                thousands(acked.get(1).copied().unwrap_or(0))
            );
            std::process::abort();
        })
        .map(|_| ())
        .map_err(|e| CliError::Invalid(format!("starting the kill timer: {e}")))
}

/// Runs the demo; [`Outcome::Damaged`] when a check failed.
pub fn demo(args: &DemoArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    let options = Options {
        queue: QueueOptions::default().lease(args.lease),
    };
    let store = open_store(args.dir, true, options)?;
    let queue = store.queue(QUEUE)?;
    let mut consumers: Vec<(usize, Consumer)> = Vec::new();
    for (index, service) in Service::ALL.iter().enumerate() {
        for _ in 0..args.consumers.max(1) {
            consumers.push((index, queue.consumer(service.group())?));
        }
    }
    let witness_dir = WitnessDir::open(args.dir)?;
    let previous = witness_dir.read_state()?;
    let run = previous.map_or(1, |p| p.run + 1);
    let (MessageId(first), MessageId(start_next)) = queue.id_range();
    output(writeln!(
        out,
        "logq demo, run {run}: {} orders into queue `{QUEUE}` of {} (durability Always: each send and ack is fdatasynced before it returns)",
        thousands(args.orders),
        args.dir.display()
    ))?;
    output(writeln!(
        out,
        "groups payments and inventory, {} consumers each; ~1% of payments fail their first attempt (nack, retry after {} ms)",
        args.consumers.max(1),
        workers::RETRY_DELAY.as_millis()
    ))?;

    // What earlier runs left, and whether their promises held.
    let earlier = scan_earlier(&queue, first, start_next)?;
    let mut start_checks = Vec::new();
    if start_next > first {
        output(writeln!(
            out,
            "earlier runs: {} orders in the queue (ids {first}..{start_next}); not yet processed: payments {}, inventory {}; dead-lettered: {}, {}",
            thousands(start_next - first),
            thousands(earlier[0].unprocessed),
            thousands(earlier[1].unprocessed),
            earlier[0].dead,
            earlier[1].dead
        ))?;
    } else {
        output(writeln!(out, "earlier runs: none (empty queue)"))?;
    }
    if let Some(previous) = previous {
        let how = if previous.finished {
            "finished"
        } else {
            "did not finish (killed or crashed): checking what it was promised"
        };
        output(writeln!(out, "previous run {}: {how}", previous.run))?;
        start_checks = check_previous(&queue, &witness_dir, previous)?;
        report::checks(out, &start_checks)?;
    }
    out.flush().map_err(CliError::Output)?;

    witness_dir.write_state(RunState {
        run,
        finished: false,
    })?;
    let groups: Vec<&str> = Service::ALL.iter().map(|s| s.group()).collect();
    let tallies = Service::ALL
        .iter()
        .zip(earlier.iter())
        .map(|(service, e)| GroupTally::new(*service, e.acked.clone(), first))
        .collect();
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        sent: AtomicU64::new(0),
        service_done: AtomicBool::new(false),
        send_latency_us: Mutex::new(Vec::new()),
        send_elapsed: Mutex::new(None),
        ids: Mutex::new(Vec::new()),
        groups: tallies,
        samples: Mutex::new(SampleReport::default()),
        error: Mutex::new(None),
        witness: witness_dir.start(&groups)?,
    });
    if let Some(after) = args.kill_after {
        start_killer(after, Arc::clone(&shared))?;
    }

    let started = Instant::now();
    let sample_every = (args.orders / OUTCOME_SAMPLES).max(1);
    let end = std::thread::scope(|scope| {
        let shared_ref: &Shared = &shared;
        let queue_ref = &queue;
        scope.spawn(move || {
            if let Err(error) =
                workers::order_service(queue_ref, shared_ref, start_next, args.orders, sample_every)
            {
                shared_ref.fail(error);
            }
            shared_ref.service_done.store(true, Ordering::SeqCst);
        });
        for (index, consumer) in &consumers {
            scope.spawn(move || {
                if let Err(error) = workers::consume(consumer, shared_ref, *index) {
                    shared_ref.fail(error);
                }
            });
        }
        let end = monitor(&queue, shared_ref, out, started);
        shared_ref.stop.store(true, Ordering::SeqCst);
        end
    })?;
    if let Some(error) = shared.error.lock().clone() {
        return Err(CliError::Invalid(format!("demo stopped: {error}")));
    }

    let checks = final_checks(&queue, &shared, &earlier, first, start_next, &start_checks)?;
    shared
        .witness
        .sync()
        .map_err(|e| CliError::Invalid(format!("syncing the demo's side files: {e}")))?;
    witness_dir.write_state(RunState {
        run,
        finished: true,
    })?;
    let stats = queue.stats()?;
    summary(args, run, &shared, &stats, end.elapsed, out)?;
    output(writeln!(out, "checks:"))?;
    report::checks(out, &checks)?;
    store.close()?;
    output(writeln!(
        out,
        "run it again to continue on {} (try --kill-after-ms 1500, then a normal run, to see what a crash keeps)",
        args.dir.display()
    ))?;
    let all: Vec<&Check> = start_checks.iter().chain(&checks).collect();
    Ok(if all.iter().all(|c| c.passed()) {
        Outcome::Clean
    } else {
        Outcome::Damaged
    })
}

/// The checks after the run: outcomes of every order, exactly-once per group, dedup.
fn final_checks(
    queue: &Queue,
    shared: &Shared,
    earlier: &[Earlier],
    first: u64,
    start_next: u64,
    start_checks: &[Check],
) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let ids = shared.ids.lock().clone();
    let count = u64::try_from(ids.len()).unwrap_or(u64::MAX);
    // Every order of this run: acked once per group (acks that returned, counted by the
    // consumers) and Acked with its outcome (`status`).
    let mut once = [0u64; 2];
    let mut with_outcome = [0u64; 2];
    for (index, service) in Service::ALL.iter().enumerate() {
        let acks = shared.groups[index].acks.lock();
        for id in &ids {
            if acks.get(id) == Some(&1) {
                once[index] += 1;
            }
            if acked_with_outcome(queue, *id, *service)? {
                with_outcome[index] += 1;
            }
        }
    }
    checks.push(Check::new(
        once == [count, count] && with_outcome == [count, count],
        format!(
            "every order of this run acked exactly once per group, with its outcome: payments {}/{}, inventory {}/{} (status of each)",
            thousands(once[0].min(with_outcome[0])),
            thousands(count),
            thousands(once[1].min(with_outcome[1])),
            thousands(count)
        ),
    ));
    let duplicates: u64 = shared
        .groups
        .iter()
        .map(|g| {
            u64::try_from(g.acks.lock().values().filter(|n| **n > 1).count()).unwrap_or(u64::MAX)
        })
        .sum();
    checks.push(Check::new(
        duplicates == 0,
        format!(
            "no message acknowledged twice in this run: {duplicates} acknowledged more than once"
        ),
    ));
    let payments = &shared.groups[0];
    checks.push(Check::new(
        payments.retried_after_nack.load(Ordering::Relaxed) >= payments.nacked.load(Ordering::Relaxed),
        format!(
            "payments: {} first attempts failed (nack {} ms) and were retried: {} redeliveries with attempt 2",
            payments.nacked.load(Ordering::Relaxed),
            workers::RETRY_DELAY.as_millis(),
            payments.retried_after_nack.load(Ordering::Relaxed)
        ),
    ));
    let samples = *shared.samples.lock();
    checks.push(Check::new(
        samples.waited > 0 && samples.matched == samples.waited,
        format!(
            "the order service's wait_outcome on {} sampled orders × 2 groups returned the expected outcome: {}/{}",
            samples.waited / 2,
            samples.matched,
            samples.waited
        ),
    ));
    // Orders earlier runs left: processed now, and none acknowledged before delivered again.
    if start_next > first {
        let mut unsettled = [0u64; 2];
        for (index, service) in Service::ALL.iter().enumerate() {
            for id in first..start_next {
                match queue.status(MessageId(id), service.group())? {
                    Status::Acked { .. } | Status::DeadLettered { .. } => {}
                    _ => unsettled[index] += 1,
                }
            }
        }
        checks.push(Check::new(
            unsettled == [0, 0],
            format!(
                "orders earlier runs left unprocessed are settled now: payments {} of {}, inventory {} of {}",
                thousands(earlier[0].unprocessed - unsettled[0].min(earlier[0].unprocessed)),
                thousands(earlier[0].unprocessed),
                thousands(earlier[1].unprocessed - unsettled[1].min(earlier[1].unprocessed)),
                thousands(earlier[1].unprocessed)
            ),
        ));
        let after_ack: u64 = shared
            .groups
            .iter()
            .map(|g| g.delivered_after_ack.load(Ordering::Relaxed))
            .sum();
        checks.push(Check::new(
            after_ack == 0,
            format!(
                "no message acknowledged before this run was delivered again (payments {}, inventory {} were acked): {after_ack} deliveries",
                thousands(earlier[0].acked_count),
                thousands(earlier[1].acked_count)
            ),
        ));
        let redelivered: Vec<u64> = shared
            .groups
            .iter()
            .map(|g| g.redelivered_from_earlier.load(Ordering::Relaxed))
            .collect();
        if redelivered.iter().any(|n| *n > 0) || !start_checks.is_empty() {
            checks.push(Check::info(format!(
                "delivered again after an earlier run (leased or nacked there, ack never returned; at-least-once): payments {}, inventory {}",
                redelivered.first().copied().unwrap_or(0),
                redelivered.get(1).copied().unwrap_or(0)
            )));
        }
    }
    // Depth 0.
    let stats = queue.stats()?;
    let depth = Service::ALL.map(|s| group(&stats, s.group()).map_or(u64::MAX, |g| g.depth));
    checks.push(Check::new(
        depth == [0, 0],
        format!(
            "queue depth at the end: payments {}, inventory {}",
            depth[0], depth[1]
        ),
    ));
    // Dedup: re-send some orders of this run with their dedup ids.
    let resend: Vec<u64> = ids.iter().copied().take(DEDUP_RESENDS).collect();
    let before = queue.id_range().1;
    let mut same = 0usize;
    for (i, id) in resend.iter().enumerate() {
        let order = Order::new(start_next + u64::try_from(i).unwrap_or(u64::MAX));
        if queue.send(order.to_message())?.0 == *id {
            same += 1;
        }
    }
    let appended = queue.id_range().1 .0 - before.0;
    checks.push(Check::new(
        same == resend.len() && appended == 0,
        format!(
            "dedup: re-sent {} orders with their dedup ids: {same} got their first id back, {appended} messages appended",
            resend.len()
        ),
    ));
    let not_orders: u64 = shared
        .groups
        .iter()
        .map(|g| g.not_orders.load(Ordering::Relaxed))
        .sum();
    if not_orders > 0 {
        checks.push(Check::info(format!(
            "{not_orders} messages in `{QUEUE}` were not orders and were dead-lettered"
        )));
    }
    Ok(checks)
}

/// Prints the summary table.
fn summary(
    args: &DemoArgs<'_>,
    run: u64,
    shared: &Shared,
    stats: &logq::QueueStats,
    elapsed: Duration,
    out: &mut dyn Write,
) -> Result<()> {
    let seconds = elapsed.as_secs_f64();
    output(writeln!(
        out,
        "summary of run {run}: {} orders in {seconds:.1} s",
        thousands(args.orders)
    ))?;
    let mut table = Table::new(&[
        "",
        ">COUNT",
        ">SECONDS",
        ">PER SECOND",
        ">P50 MS",
        ">P99 MS",
        ">P99.9 MS",
        ">MAX MS",
        ">DEPTH",
    ]);
    let mut latencies = shared.send_latency_us.lock().clone();
    latencies.sort_unstable();
    let send_seconds = shared
        .send_elapsed
        .lock()
        .map_or(seconds, |d| d.as_secs_f64());
    table.row(vec![
        "send (durable, 1 thread)".into(),
        thousands(u64::try_from(latencies.len()).unwrap_or(u64::MAX)),
        format!("{send_seconds:.1}"),
        rate(
            u64::try_from(latencies.len()).unwrap_or(u64::MAX),
            send_seconds,
        ),
        ms(quantile(&latencies, 0.5)),
        ms(quantile(&latencies, 0.99)),
        ms(quantile(&latencies, 0.999)),
        ms(latencies.last().copied().unwrap_or(0)),
        "-".into(),
    ]);
    for (index, service) in Service::ALL.iter().enumerate() {
        let acked = shared.groups[index].acked.load(Ordering::Relaxed);
        let view = group(stats, service.group());
        let latency = view.and_then(|g| g.latency);
        let cell = |f: fn(&logq::LatencyPercentiles) -> u64| {
            latency.as_ref().map_or_else(|| "-".into(), |l| ms(f(l)))
        };
        table.row(vec![
            format!("{} ack (sent → acked)", service.group()),
            thousands(acked),
            format!("{seconds:.1}"),
            rate(acked, seconds),
            cell(|l| l.p50_us),
            cell(|l| l.p99_us),
            cell(|l| l.p999_us),
            cell(|l| l.max_us),
            view.map_or_else(|| "-".into(), |g| g.depth.to_string()),
        ]);
    }
    table.write(out)?;
    let first_of_run = shared.ids.lock().first().copied().unwrap_or(u64::MAX);
    let earlier_processed = shared
        .groups
        .iter()
        .any(|g| g.acks.lock().keys().any(|id| *id < first_of_run));
    output(writeln!(
        out,
        "queue `{QUEUE}`: ids {}..{}, {} on disk (log {}); ack latency is Queue::stats' enqueue-to-ack histogram{}",
        stats.first_id,
        stats.next_id,
        human_size(tree_bytes(&args.dir.join("queues").join(QUEUE))),
        human_size(stats.disk_bytes),
        if earlier_processed {
            " (it includes orders an earlier run left, whose wait spans the restart)"
        } else {
            ""
        }
    ))
}
