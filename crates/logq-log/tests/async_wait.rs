//! `Log::wait_durable_async` and the blocking `wait_durable` at their edges: many tasks on
//! one thread share commits and survive a reopen; an offset beyond the end is refused
//! instead of waited for forever; a read-only handle refuses; closing or dropping the log
//! resolves pending futures; a future polled again after its waker changed still resolves.

use futures::executor::block_on;
use logq_log::{Durability, Error, Log, LogOptions, Record};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[test]
fn many_tasks_on_one_thread_each_get_their_own_durable_append() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default().segment_bytes_max(8192)).unwrap();
    let tasks = 32u64;
    let per_task = 25u64;
    let outcomes = block_on(futures::future::join_all((0..tasks).map(|task| {
        let log = log.clone();
        async move {
            let mut appended = Vec::new();
            for i in 0..per_task {
                let payload = format!("task {task} record {i}").into_bytes();
                let offsets = log.append_deferred(&[Record::new(&payload)]).unwrap();
                log.wait_durable_async(offsets.end).await.unwrap();
                assert!(log.durable_offset() >= offsets.end);
                appended.push((offsets.start, payload));
            }
            appended
        }
    })));
    let mut all: Vec<(u64, Vec<u8>)> = outcomes.into_iter().flatten().collect();
    all.sort();
    let offsets: Vec<u64> = all.iter().map(|(offset, _)| *offset).collect();
    assert_eq!(offsets, (0..tasks * per_task).collect::<Vec<_>>());
    assert!(
        log.segment_count() > 1,
        "segments must roll under the tasks"
    );
    drop(log); // no close: the committer must not keep the log alive or lose anything
    let reopened = Log::open(dir.path(), LogOptions::default()).unwrap();
    for (offset, payload) in all {
        assert_eq!(reopened.read(offset).unwrap().payload, payload);
    }
}

#[test]
fn an_offset_beyond_the_end_is_refused_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    log.append(&[Record::new(b"a")]).unwrap();
    assert!(matches!(
        block_on(log.wait_durable_async(5)),
        Err(Error::OffsetOutOfRange {
            offset: 5,
            next: 1,
            ..
        })
    ));
    // The blocking wait used to lead fdatasyncs forever here.
    for durability in [Durability::Always, Durability::Never] {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), LogOptions::default().durability(durability)).unwrap();
        log.append(&[Record::new(b"a")]).unwrap();
        assert!(
            matches!(log.wait_durable(3), Err(Error::InvalidArgument(_))),
            "{durability:?}"
        );
        log.wait_durable(1).unwrap();
        block_on(log.wait_durable_async(1)).unwrap();
    }
}

#[test]
fn a_read_only_handle_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    log.append(&[Record::new(b"a")]).unwrap();
    let reader = Log::open_read_only(dir.path(), LogOptions::default()).unwrap();
    assert!(matches!(
        block_on(reader.wait_durable_async(1)),
        Err(Error::ReadOnly { .. })
    ));
}

/// Counts wake-ups.
#[derive(Default)]
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn closing_resolves_pending_futures_and_a_changed_waker_is_woken() {
    let dir = tempfile::tempdir().unwrap();
    // `Never`: nothing makes the append durable but the committer or the close.
    let log = Log::open(
        dir.path(),
        LogOptions::default().durability(Durability::Never),
    )
    .unwrap();
    let offsets = log.append_deferred(&[Record::new(b"a")]).unwrap();
    let mut future = pin!(log.wait_durable_async(offsets.end));
    let first = Arc::new(CountingWaker::default());
    let second = Arc::new(CountingWaker::default());
    let first_waker = Waker::from(Arc::clone(&first));
    let second_waker = Waker::from(Arc::clone(&second));
    // Polled with one waker, then another: the last one must be woken.
    let mut polls = 0;
    loop {
        let waker = if polls == 0 {
            &first_waker
        } else {
            &second_waker
        };
        polls += 1;
        match future.as_mut().poll(&mut Context::from_waker(waker)) {
            Poll::Ready(result) => {
                result.unwrap();
                break;
            }
            Poll::Pending => {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while first.0.load(std::sync::atomic::Ordering::SeqCst)
                    + second.0.load(std::sync::atomic::Ordering::SeqCst)
                    < polls
                    && std::time::Instant::now() < deadline
                {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
        assert!(polls < 100, "the future never resolved");
    }
    assert!(log.durable_offset() >= offsets.end);

    // A future still pending when the log closes resolves: `Ok` when the close made its
    // target durable.
    let more = log.append_deferred(&[Record::new(b"b")]).unwrap();
    let pending = log.wait_durable_async(more.end);
    log.close().unwrap();
    block_on(pending).unwrap();
    // After the close nothing can be appended, and waiting is still answered.
    assert!(matches!(
        log.append_deferred(&[Record::new(b"c")]),
        Err(Error::Closed)
    ));
    block_on(log.wait_durable_async(more.end)).unwrap();
}

#[test]
fn a_woken_task_passes_the_wake_up_on_even_when_dropped_unpolled() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    let a_end = log.append_deferred(&[Record::new(b"a")]).unwrap().end;
    let b_end = log.append_deferred(&[Record::new(b"b")]).unwrap().end;
    let (a_wakes, b_wakes) = (
        Arc::new(CountingWaker::default()),
        Arc::new(CountingWaker::default()),
    );
    let mut a = Box::pin(log.wait_durable_async(a_end));
    let mut b = Box::pin(log.wait_durable_async(b_end));
    let a_waker = Waker::from(Arc::clone(&a_wakes));
    let b_waker = Waker::from(Arc::clone(&b_wakes));
    assert!(a
        .as_mut()
        .poll(&mut Context::from_waker(&a_waker))
        .is_pending());
    if b.as_mut()
        .poll(&mut Context::from_waker(&b_waker))
        .is_ready()
    {
        return; // the commit for `a` already covered `b`: nothing chained to check
    }
    let count = |w: &CountingWaker| w.0.load(std::sync::atomic::Ordering::SeqCst);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(&a_wakes) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(
        count(&a_wakes),
        1,
        "the committer wakes the first covered task"
    );
    if count(&b_wakes) == 0 {
        // `b` was chained to `a` (one commit covered both): dropping `a` unpolled must
        // still wake `b`.
        drop(a);
        assert_eq!(count(&b_wakes), 1);
    }
    assert!(matches!(
        b.as_mut().poll(&mut Context::from_waker(&b_waker)),
        Poll::Ready(Ok(()))
    ));
}
