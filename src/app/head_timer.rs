//! The deadline of each request head on a kept-alive HTTP/1 connection (it also closes a
//! connection left idle that long), as hyper's `header_read_timeout` asks a timer for it.
//!
//! hyper asks for a new sleep for every request head. With tokio's own timer each of them is
//! registered in the runtime's timer wheel when first polled (a client between two requests
//! is always waited for) and removed when the head has arrived: two locked updates of the
//! wheel per request (BENCHMARKS.md, Session 8, has what the per-request timer costs). Here
//! one tokio sleep per connection serves every head: it is only moved forward when it fires
//! before the head it waits for is due, so a busy connection touches the wheel about once
//! per timeout, not once per request.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use hyper::rt::{Sleep, Timer};

/// One connection's timer for hyper.
#[derive(Clone)]
pub(super) struct HeadTimer(Arc<Mutex<Pin<Box<tokio::time::Sleep>>>>);

impl HeadTimer {
    /// A timer whose first wake-up is due after `timeout` (the first head's deadline).
    pub(super) fn new(timeout: Duration) -> Self {
        Self(Arc::new(Mutex::new(Box::pin(tokio::time::sleep(timeout)))))
    }
}

impl Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(self.now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(HeadSleep { shared: self.0.clone(), deadline })
    }

    /// tokio's clock, which tests may pause.
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A deadline, waited for on the connection's one tokio sleep.
struct HeadSleep {
    shared: Arc<Mutex<Pin<Box<tokio::time::Sleep>>>>,
    deadline: Instant,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // A poisoned lock only means a panic elsewhere while it was held: the sleep is intact.
        let mut sleep = this.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // The shared sleep is never later than this deadline (deadlines only grow): when it
        // fires early, it is moved to this one.
        while sleep.as_mut().poll(cx).is_ready() {
            if tokio::time::Instant::now().into_std() >= this.deadline {
                return Poll::Ready(());
            }
            sleep.as_mut().reset(this.deadline.into());
        }
        Poll::Pending
    }
}

impl Sleep for HeadSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(sleep: &mut Pin<Box<dyn Sleep>>) -> Poll<()> {
        sleep.as_mut().poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[tokio::test(start_paused = true)]
    async fn each_deadline_is_kept_on_one_shared_sleep() {
        let timer = HeadTimer::new(Duration::from_secs(10));
        let start = timer.now();
        // A head due at 10 s, waited for at 9 s: not yet.
        let mut first = timer.sleep_until(start + Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(poll(&mut first).is_pending());
        drop(first); // the head arrived
        // The next head is due at 19 s: the shared sleep fires at 10 s and moves to 19 s.
        let mut second = timer.sleep(Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(poll(&mut second).is_pending(), "fired early, moved on");
        tokio::time::advance(Duration::from_secs(7)).await;
        assert!(poll(&mut second).is_pending(), "18 s");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(poll(&mut second).is_ready(), "19 s: due");
    }
}
