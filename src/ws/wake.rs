//! A waker that records that it was woken, so a task running several futures polls only the
//! ones that have something to do (see `route::run_together` and the driver's read side).
//!
//! A flag may share a `busy` marker with the loop that polls it: while that loop runs, it
//! looks at every flag before it returns, so a wake-up only sets the flag and does not
//! schedule the task again (each needless re-schedule is a run-queue round trip per message).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use futures_util::task::{ArcWake, AtomicWaker, waker_ref};

pub(crate) struct Flag {
    set: AtomicBool,
    task: AtomicWaker,
    /// True while the polling loop runs (see the module documentation).
    busy: Option<Arc<AtomicBool>>,
}

impl Flag {
    /// A flag that starts set, so the first poll happens.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { set: AtomicBool::new(true), task: AtomicWaker::new(), busy: None })
    }

    /// A flag whose polling loop marks itself `busy` while it runs.
    pub(crate) fn polled_by(busy: &Arc<AtomicBool>) -> Arc<Self> {
        Arc::new(Self { set: AtomicBool::new(true), task: AtomicWaker::new(), busy: Some(busy.clone()) })
    }

    /// Takes the flag: true if woken since the last take.
    pub(crate) fn take(&self) -> bool {
        self.set.swap(false, Ordering::SeqCst)
    }

    /// Whether the flag is set (without taking it).
    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    pub(crate) fn set(&self) {
        self.set.store(true, Ordering::Release);
    }

    /// Polls `f` with a waker that sets this flag and wakes the task of `cx`.
    pub(crate) fn poll_with<T>(
        self: &Arc<Self>,
        cx: &Context<'_>,
        f: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.task.register(cx.waker());
        let waker = waker_ref(self);
        f(&mut Context::from_waker(&waker))
    }
}

impl ArcWake for Flag {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        // SeqCst pairs with the loop's `busy.store(false)` then `is_set()`: either the loop
        // sees this flag, or this sees the loop gone and wakes the task.
        arc_self.set.store(true, Ordering::SeqCst);
        if arc_self.busy.as_ref().is_some_and(|b| b.load(Ordering::SeqCst)) {
            return;
        }
        arc_self.task.wake();
    }
}

/// Marks a polling loop busy for as long as it lives.
pub(crate) struct Busy<'a>(&'a AtomicBool);

impl<'a> Busy<'a> {
    pub(crate) fn enter(busy: &'a AtomicBool) -> Self {
        busy.store(true, Ordering::SeqCst);
        Self(busy)
    }

    /// Leaves; true if one of `flags` was set meanwhile (then the loop is busy again and
    /// must look at them).
    pub(crate) fn leave(&self, flags: &[Option<&Flag>]) -> bool {
        self.0.store(false, Ordering::SeqCst);
        if flags.iter().flatten().any(|f| f.is_set()) {
            self.0.store(true, Ordering::SeqCst);
            return true;
        }
        false
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}
