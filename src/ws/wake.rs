//! A waker that records that it was woken, so a task running several futures polls only the
//! ones that have something to do (see `route::run_together` and the driver's read side).

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
}

impl Flag {
    /// A flag that starts set, so the first poll happens.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { set: AtomicBool::new(true), task: AtomicWaker::new() })
    }

    /// Takes the flag: true if woken since the last take.
    pub(crate) fn take(&self) -> bool {
        self.set.swap(false, Ordering::AcqRel)
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
        arc_self.set.store(true, Ordering::Release);
        arc_self.task.wake();
    }
}
