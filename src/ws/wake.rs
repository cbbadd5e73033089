//! Wake flags: a waker that records that it was woken, so a task running several futures
//! polls only the ones that have something to do (see `route::run_together` and the driver's
//! read side).
//!
//! Flags of one owner share its waker (`StableWaker`), which the owner registers at the start of
//! every poll, whichever flags it then polls. (Registering per flag, only when that flag's
//! side was polled, lost wake-ups: a wake-up takes the registered waker, and if it lands
//! just after the owner took the flag and polled that side, the side is not polled again,
//! its registration stays empty, and every later wake-up of it is dropped. Found by
//! benches/broadcast.rs with frequent pings: a connection stopped being polled for good.)
//!
//! A flag may also share a `busy` marker with its owner's loop: while that loop runs, it
//! looks at every flag before it returns, so a wake-up only sets the flag and does not
//! schedule the task again (each needless re-schedule is a run-queue round trip).

use std::{
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Waker},
};

use futures_util::task::{ArcWake, waker_ref};

/// A task's waker, registered at the start of each of its owner's polls: the owner of wake
/// flags, or the connection's driver.
///
/// An owner is polled by one task, whose waker is always the same: the first one is kept
/// and a registration is one comparison (an `AtomicWaker` costs two atomic read-modify-writes
/// per registration and one more per wake-up, a tenth of a connection's work per message).
/// Waking never takes the waker, so no registration can be lost. Should the owner move to
/// another task, its new waker is kept beside and used from then on.
#[derive(Default)]
pub(crate) struct StableWaker {
    first: OnceLock<Waker>,
    moved: AtomicBool,
    other: Mutex<Option<Waker>>,
}

impl StableWaker {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Called by the owner at the start of every poll.
    pub(crate) fn register(&self, cx: &Context<'_>) {
        let waker = cx.waker();
        if !self.moved.load(Ordering::Acquire) {
            match self.first.get() {
                Some(first) if first.will_wake(waker) => return,
                Some(_) => {}
                None => {
                    if self.first.set(waker.clone()).is_ok() {
                        return;
                    }
                }
            }
        }
        let mut other = self.other.lock().unwrap_or_else(|e| e.into_inner());
        if !other.as_ref().is_some_and(|o| o.will_wake(waker)) {
            *other = Some(waker.clone());
        }
        // SeqCst: a wake-up that still reads `false` comes before this in the total order,
        // so its flag is set before the owner looks at the flags in this poll.
        self.moved.store(true, Ordering::SeqCst);
    }

    pub(crate) fn wake(&self) {
        if self.moved.load(Ordering::SeqCst) {
            if let Some(w) = self.other.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                w.wake_by_ref();
            }
        } else if let Some(w) = self.first.get() {
            w.wake_by_ref();
        }
    }
}

pub(crate) struct Flag {
    set: AtomicBool,
    parent: Arc<StableWaker>,
    /// True while the owner's loop runs (see the module documentation).
    busy: Option<Arc<AtomicBool>>,
}

impl Flag {
    /// A flag that starts set, so the first poll happens.
    pub(crate) fn new(parent: &Arc<StableWaker>) -> Arc<Self> {
        Arc::new(Self { set: AtomicBool::new(true), parent: parent.clone(), busy: None })
    }

    /// A flag whose owner's loop marks itself `busy` while it runs.
    pub(crate) fn polled_by(parent: &Arc<StableWaker>, busy: &Arc<AtomicBool>) -> Arc<Self> {
        Arc::new(Self { set: AtomicBool::new(true), parent: parent.clone(), busy: Some(busy.clone()) })
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

    /// Polls `f` with a waker that sets this flag and wakes the owner. The owner must have
    /// registered its `StableWaker` in this same poll.
    pub(crate) fn poll_with<T>(self: &Arc<Self>, f: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
        let waker = waker_ref(self);
        f(&mut Context::from_waker(&waker))
    }
}

impl ArcWake for Flag {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        // SeqCst pairs with the loop's `busy.store(false)` then `is_set()`: either the loop
        // sees this flag, or this sees the loop gone and wakes the owner.
        arc_self.set.store(true, Ordering::SeqCst);
        if arc_self.busy.as_ref().is_some_and(|b| b.load(Ordering::SeqCst)) {
            return;
        }
        arc_self.parent.wake();
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures_util::task::waker;

    use super::*;

    struct Count(AtomicUsize);

    impl ArcWake for Count {
        fn wake_by_ref(arc_self: &Arc<Self>) {
            arc_self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Regression: a side woken just after the owner polled it, and not polled in the
    /// owner's next poll, must still wake the owner the time after.
    #[test]
    fn a_flag_not_polled_in_the_last_poll_still_wakes_its_owner() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let owner = waker(count.clone());
        let cx = Context::from_waker(&owner);
        let parent = StableWaker::new();
        let (a, b) = (Flag::new(&parent), Flag::new(&parent));
        // Poll 1: the owner registers and polls both sides.
        parent.register(&cx);
        assert!(a.take() && b.take());
        // `a` is woken: its wake-up takes the owner's registration.
        waker(a.clone()).wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        // Poll 2: only `a` has something to do; `b` is not polled.
        parent.register(&cx);
        assert!(a.take());
        assert!(!b.take());
        // `b` is woken now: the owner must hear of it.
        waker(b.clone()).wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "the owner was not woken");
        assert!(b.take());
    }

    #[test]
    fn an_owner_polled_by_another_task_is_woken_there() {
        let (one, two) = (Arc::new(Count(AtomicUsize::new(0))), Arc::new(Count(AtomicUsize::new(0))));
        let (w1, w2) = (waker(one.clone()), waker(two.clone()));
        let owner = StableWaker::new();
        owner.register(&Context::from_waker(&w1));
        owner.wake();
        owner.register(&Context::from_waker(&w2));
        owner.wake();
        owner.wake();
        assert_eq!(one.0.load(Ordering::SeqCst), 1);
        assert_eq!(two.0.load(Ordering::SeqCst), 2, "the new task was not woken");
        owner.register(&Context::from_waker(&w1));
        owner.wake();
        assert_eq!(one.0.load(Ordering::SeqCst), 2, "back on the first task");
    }

    #[test]
    fn a_busy_owner_is_not_woken_but_sees_the_flag() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let owner = waker(count.clone());
        let cx = Context::from_waker(&owner);
        let (parent, busy) = (StableWaker::new(), Arc::new(AtomicBool::new(false)));
        let a = Flag::polled_by(&parent, &busy);
        parent.register(&cx);
        let running = Busy::enter(&busy);
        assert!(a.take());
        waker(a.clone()).wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        assert!(running.leave(&[Some(&a)]), "the loop must look again");
        assert!(a.take());
        assert!(!running.leave(&[Some(&a)]));
        drop(running);
        waker(a.clone()).wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
