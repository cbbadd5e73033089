//! The state one connection's handler side and driver share.
//!
//! The handler and the driver run in the same task (joined), so handing a message over is a
//! lock and a wake-up of the task that is already running, never a cross-thread hop. The
//! inbound side is a single slot: the driver reads the next frame only once the handler took
//! the previous one, so a handler that stops reading pushes back on the client through TCP.

use std::{
    collections::VecDeque,
    fmt,
    net::SocketAddr,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
};

use poem::Response;
use tokio::sync::{Notify, oneshot};
use tokio_tungstenite::tungstenite;

use super::{CloseCode, CloseFrame, Message, SlowConsumer, WsError};

/// A connection's unique id: taken from `?client_id=` when valid and unused, else generated.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(Arc<str>);

impl ConnectionId {
    pub(crate) fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string().into())
    }

    /// A client-proposed id is taken only if it is 1-64 characters of `[A-Za-z0-9_.:-]`.
    pub(crate) fn proposed(id: &str) -> Option<Self> {
        let valid = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        valid.then(|| Self(id.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl std::borrow::Borrow<str> for ConnectionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ConnectionId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// What the handler decided before the handshake completed.
#[derive(Debug)]
pub(crate) enum Decision {
    Accept { protocol: Option<String> },
    Reject(CloseFrame),
    RejectHttp(Response),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the handler's decision or the upgrade.
    Pending,
    /// Open: messages flow.
    Open,
    /// Over: `closed` says how.
    Closed,
}

pub(crate) struct State {
    pub(crate) phase: Phase,
    pub(crate) decided: bool,
    /// Set when the handler rejected, read by the driver.
    pub(crate) rejection: Option<CloseFrame>,
    pub(crate) inbound: Option<Message>,
    pub(crate) closed: Option<CloseFrame>,
    /// A close the handler (or the server) asked for; taken by the driver.
    pub(crate) close_request: Option<CloseFrame>,
    /// The close request drops what is still queued (slow consumer) instead of sending it first.
    pub(crate) close_aborts: bool,
    pub(crate) handler_done: bool,
    /// The driver sent (or is sending) its close frame: nothing more is accepted.
    pub(crate) closing: bool,
    /// Accepted by the framework (first-message authentication) before the handler ran.
    pub(crate) pre_accepted: bool,
    /// Tasks waiting on the handler side (receive, accept, close).
    waiters: Vec<std::task::Waker>,
}

impl State {
    fn wait(&mut self, cx: &Context<'_>) {
        if !self.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            self.waiters.push(cx.waker().clone());
        }
    }
}

/// Outgoing messages not yet taken by the driver.
pub(crate) struct Outbox {
    pub(crate) queue: VecDeque<tungstenite::Message>,
    /// False before the handshake and once closing: offers are refused.
    pub(crate) accepting: bool,
}

pub(crate) struct Conn {
    // The fields a broadcast touches come first, to share cache lines.
    outbox: Mutex<Outbox>,
    driver_waker: super::wake::StableWaker,
    requested: AtomicBool,
    /// Hints read by the driver without a lock, each written under its lock: the outbox may
    /// hold messages; the handler's slot holds one (a lock per check was a tenth of a
    /// message's user-space work).
    queued: AtomicBool,
    inbound_full: AtomicBool,
    pub(crate) id: ConnectionId,
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) max_queue: usize,
    pub(crate) policy: SlowConsumer,
    /// What a typed socket does with a message that does not decode.
    pub(crate) invalid_message: super::InvalidMessage,
    /// Most topics the pub/sub endpoint lets this connection subscribe to.
    pub(crate) max_subscriptions: u32,
    state: Mutex<State>,
    decision: Mutex<Option<oneshot::Sender<Decision>>>,
    space: Notify,
    space_waiters: AtomicUsize,
    /// The Hub rooms this connection is in, so that it leaves them when it ends.
    pub(crate) rooms: Mutex<RoomsOf>,
    /// Set on a connection authenticated with an expiring token (boxed: most have none).
    auth: std::sync::OnceLock<Box<super::auth::AuthWatch>>,
}

/// Counts a sender waiting for queue room, for as long as it waits (also when cancelled).
struct SpaceWaiter<'a>(&'a AtomicUsize);

impl<'a> SpaceWaiter<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for SpaceWaiter<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The rooms a connection is in (a set: leaving many rooms one by one stays linear); `gone`
/// once it ended (a late join is then refused).
#[derive(Default)]
pub(crate) struct RoomsOf {
    pub(crate) set: std::collections::HashSet<Arc<str>>,
    pub(crate) gone: bool,
}

/// What happened to a message offered to a connection under a slow-consumer policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    Queued,
    /// Queued, after dropping the oldest queued message.
    DroppedOldest,
    /// Not queued: the queue is full.
    DroppedNewest,
    /// The queue was full: the connection is being closed with 1013.
    ClosedSlow,
    /// The connection is closed or closing.
    Gone,
}

impl Conn {
    pub(crate) fn new(
        id: ConnectionId,
        remote: Option<SocketAddr>,
        config: &super::WsConfig,
        decision: oneshot::Sender<Decision>,
    ) -> Self {
        Self {
            outbox: Mutex::new(Outbox { queue: VecDeque::new(), accepting: false }),
            requested: AtomicBool::new(false),
            queued: AtomicBool::new(false),
            inbound_full: AtomicBool::new(false),
            id,
            remote,
            max_queue: config.max_queue,
            policy: config.slow_consumer,
            invalid_message: config.invalid_message,
            max_subscriptions: u32::try_from(config.max_subscriptions).unwrap_or(u32::MAX),
            state: Mutex::new(State {
                phase: Phase::Pending,
                decided: false,
                rejection: None,
                inbound: None,
                closed: None,
                close_request: None,
                close_aborts: false,
                handler_done: false,
                closing: false,
                pre_accepted: false,
                waiters: Vec::new(),
            }),
            decision: Mutex::new(Some(decision)),
            driver_waker: Default::default(),
            space: Notify::new(),
            space_waiters: AtomicUsize::new(0),
            rooms: Mutex::new(RoomsOf::default()),
            auth: std::sync::OnceLock::new(),
        }
    }

    /// Watches this connection's token: the driver closes it at expiry (see `ws::auth`).
    pub(crate) fn watch(&self, watch: super::auth::AuthWatch) {
        if self.auth.set(Box::new(watch)).is_ok() {
            self.signal_request();
            self.wake_driver();
        }
    }

    /// The token watch, if the connection was authenticated with an expiring token.
    pub(crate) fn auth_watch(&self) -> Option<&super::auth::AuthWatch> {
        self.auth.get().map(|b| &**b)
    }

    /// Accepts on the handler's behalf (first-message authentication): the handler's own
    /// `accept` then succeeds without deciding again.
    pub(crate) fn pre_accept(&self, protocol: Option<String>) -> Result<(), WsError> {
        self.decide(Decision::Accept { protocol })?;
        self.lock().pre_accepted = true;
        Ok(())
    }

    /// Queues `msg` without waiting; when the queue is full, the connection's slow-consumer
    /// policy decides.
    pub(crate) fn offer(&self, msg: tungstenite::Message) -> Offer {
        let outcome = {
            let mut out = self.outbox();
            if !out.accepting {
                return Offer::Gone;
            }
            if out.queue.len() < self.max_queue {
                out.queue.push_back(msg);
                self.queued.store(true, Ordering::Release);
                Offer::Queued
            } else {
                match self.policy {
                    SlowConsumer::DropNewest => return Offer::DroppedNewest,
                    SlowConsumer::DropOldest => {
                        out.queue.pop_front();
                        out.queue.push_back(msg);
                        self.queued.store(true, Ordering::Release);
                        Offer::DroppedOldest
                    }
                    SlowConsumer::Close => {
                        out.accepting = false;
                        Offer::ClosedSlow
                    }
                }
            }
        };
        if outcome == Offer::ClosedSlow {
            self.close_with(CloseFrame::new(CloseCode::TRY_AGAIN_LATER, "too slow: message queue full"), true);
        } else {
            self.wake_driver();
        }
        outcome
    }

    /// Tells the driver a close request or the handler's end is waiting in the state.
    fn signal_request(&self) {
        self.requested.store(true, Ordering::Release);
    }

    /// Whether a request was signalled since the last call.
    pub(crate) fn take_requested(&self) -> bool {
        self.requested.swap(false, Ordering::AcqRel)
    }

    /// The outgoing queue (its own lock, so a broadcast touches as little memory per
    /// receiver as possible).
    pub(crate) fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves every queued message into `into` (which must be empty); false if there was
    /// none. No lock when the queue is known to be empty.
    pub(crate) fn take_queued(&self, into: &mut VecDeque<tungstenite::Message>) -> bool {
        if !self.queued.load(Ordering::Acquire) {
            return false;
        }
        let mut out = self.outbox();
        self.queued.store(false, Ordering::Relaxed); // under the lock, as every store
        // The two queues swap buffers, so both keep the capacity of the largest burst (at
        // most `max_queue` messages): shrinking reallocated on every burst.
        std::mem::swap(into, &mut out.queue);
        !into.is_empty()
    }

    /// Whether the handler has not yet taken the last message handed over.
    pub(crate) fn inbound_waiting(&self) -> bool {
        self.inbound_full.load(Ordering::Acquire)
    }

    /// Stops accepting messages; with `keep`, what is queued is returned for the driver.
    pub(crate) fn stop_accepting(&self, keep: bool) -> VecDeque<tungstenite::Message> {
        let mut out = self.outbox();
        out.accepting = false;
        if keep {
            std::mem::take(&mut out.queue)
        } else {
            out.queue.clear();
            VecDeque::new()
        }
    }

    /// Locks the state. A poisoned lock only means a panic elsewhere while holding it; the
    /// state itself is always consistent between statements, so go on with it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn wake_driver(&self) {
        self.driver_waker.wake();
    }

    /// Puts an incoming message in the handler's slot and wakes the handler, under one lock.
    pub(crate) fn hand_over(&self, msg: Message) {
        let mut st = self.lock();
        st.inbound = Some(msg);
        self.inbound_full.store(true, Ordering::Release);
        // Woken under the lock: draining keeps the list's capacity (no allocation per message),
        // and waking only schedules tasks, it never runs them here.
        for w in st.waiters.drain(..) {
            w.wake();
        }
    }

    /// Wakes every task waiting on the handler side (a `Socket` may be shared by several).
    pub(crate) fn wake_handler(&self) {
        for w in self.lock().waiters.drain(..) {
            w.wake();
        }
    }

    pub(crate) fn register_driver(&self, cx: &Context<'_>) {
        self.driver_waker.register(cx);
    }

    /// Records the handler's decision and hands it to the HTTP side, once.
    pub(crate) fn decide(&self, decision: Decision) -> Result<(), WsError> {
        {
            let mut st = self.lock();
            if st.decided && st.pre_accepted {
                // The framework accepted already: accepting is a no-op, refusing closes.
                drop(st);
                match decision {
                    Decision::Accept { .. } => {}
                    Decision::Reject(frame) => self.request_close(frame),
                    Decision::RejectHttp(_) => {
                        self.request_close(CloseFrame::new(CloseCode::POLICY_VIOLATION, "connection refused"))
                    }
                }
                return Ok(());
            }
            if st.decided {
                return Err(WsError::AlreadyDecided);
            }
            st.decided = true;
            if let Decision::Reject(frame) = &decision {
                st.rejection = Some(frame.clone());
            }
            if matches!(decision, Decision::RejectHttp(_)) {
                st.phase = Phase::Closed;
            }
        }
        let sender = self.decision.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(sender) = sender {
            let _ = sender.send(decision);
        }
        self.wake_driver();
        Ok(())
    }

    pub(crate) fn is_decided(&self) -> bool {
        self.lock().decided
    }

    /// Marks the connection over, with how it ended, and releases everyone waiting on it.
    pub(crate) fn finish(&self, how: Option<CloseFrame>) {
        {
            let mut st = self.lock();
            st.phase = Phase::Closed;
            if st.closed.is_none() {
                st.closed = how;
            }
        }
        self.stop_accepting(false);
        self.wake_handler();
        self.space.notify_waiters();
    }

    /// Asks the driver to close with `frame` (the first request wins); what is queued goes
    /// out before the close frame.
    pub(crate) fn request_close(&self, frame: CloseFrame) {
        self.close_with(frame, false);
    }

    /// The one way a close is requested: `aborts` drops what is still queued (slow consumer).
    fn close_with(&self, frame: CloseFrame, aborts: bool) {
        {
            let mut st = self.lock();
            if st.phase == Phase::Closed || st.close_request.is_some() {
                return;
            }
            st.close_request = Some(frame);
            st.close_aborts = aborts;
        }
        self.signal_request();
        self.outbox().accepting = false; // nothing more is accepted
        self.wake_driver();
    }

    pub(crate) fn mark_handler_done(&self) {
        self.lock().handler_done = true;
        self.signal_request();
        self.wake_driver();
    }

    /// Waits until the connection leaves `Pending`.
    pub(crate) fn poll_opened(&self, cx: &Context<'_>) -> Poll<Phase> {
        let mut st = self.lock();
        if st.phase == Phase::Pending {
            st.wait(cx);
            Poll::Pending
        } else {
            Poll::Ready(st.phase)
        }
    }

    /// Waits until the connection is closed.
    pub(crate) fn poll_closed(&self, cx: &Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.phase == Phase::Closed {
            Poll::Ready(())
        } else {
            st.wait(cx);
            Poll::Pending
        }
    }

    /// The next message for the handler; `Close` once the connection is over.
    pub(crate) fn poll_receive(&self, cx: &Context<'_>) -> Poll<Message> {
        let mut st = self.lock();
        if let Some(msg) = st.inbound.take() {
            self.inbound_full.store(false, Ordering::Release);
            drop(st);
            self.wake_driver();
            return Poll::Ready(msg);
        }
        if st.phase == Phase::Closed {
            return Poll::Ready(Message::Close(st.closed.clone()));
        }
        st.wait(cx);
        Poll::Pending
    }

    /// Queues `msg`, or returns it when the queue is full.
    pub(crate) fn try_push(&self, msg: tungstenite::Message) -> Result<(), PushError> {
        {
            let mut out = self.outbox();
            if !out.accepting {
                return Err(PushError::Closed);
            }
            if out.queue.len() >= self.max_queue {
                return Err(PushError::Full(msg));
            }
            out.queue.push_back(msg);
            self.queued.store(true, Ordering::Release);
        }
        self.wake_driver();
        Ok(())
    }

    /// Queues `msg`, waiting for room while the client is slow. The common case (room in the
    /// queue) takes one lock; only a full queue registers with the `Notify`.
    pub(crate) async fn push(&self, mut msg: tungstenite::Message) -> Result<(), WsError> {
        loop {
            match self.try_push(msg) {
                Ok(()) => return Ok(()),
                Err(PushError::Closed) => return Err(WsError::Closed),
                Err(PushError::Full(m)) => msg = m,
            }
            let _waiting = SpaceWaiter::new(&self.space_waiters);
            let notified = self.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Room made before `enable` is seen here; room made after it is notified.
            match self.try_push(msg) {
                Ok(()) => return Ok(()),
                Err(PushError::Closed) => return Err(WsError::Closed),
                Err(PushError::Full(m)) => msg = m,
            }
            notified.await;
        }
    }

    /// Wakes senders waiting for room, if there are any (the `Notify` takes a lock).
    pub(crate) fn notify_space(&self) {
        if self.space_waiters.load(Ordering::Acquire) > 0 {
            self.space.notify_waiters();
        }
    }
}

pub(crate) enum PushError {
    Closed,
    Full(tungstenite::Message),
}
