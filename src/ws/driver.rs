//! The driver: owns the socket of one connection and runs its loop until the closing
//! handshake is complete. It reads frames ([`Reader`]) into the handler's slot, writes
//! everything queued (frames encoded once, [`Frame`]) several at a time, answers pings and
//! closes, pings quiet clients, enforces the limits, and closes on bad input (1009 for an
//! oversized message, 1007 for bad UTF-8, 1002 for a protocol error).

use std::{
    collections::VecDeque,
    future::{Future, poll_fn},
    io::IoSlice,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep};

use super::{
    CloseCode, CloseFrame, Message, WsConfig, auth,
    caps::Caps,
    conn::{Conn, Phase},
    frame::{Frame, Kind},
    io::{Upgrade, WsIo},
    rate::Meter,
    reader::{Incoming, ReadError, Reader},
    traffic::{Counts, Ended, Totals},
    wake::{Flag, StableWaker},
};

/// Most frames handed to one write.
const MAX_SLICES: usize = 64;
/// Frames adding up to at most this many bytes are copied into one buffer for a write.
const COALESCE_UP_TO: usize = 16 * 1024;
/// Frames of the driver's own (pongs, token refresh answers) allowed beyond the outbox's bound
/// before reading pauses.
const PENDING_SLACK: usize = 16;

thread_local! {
    /// The buffer small frames are copied into for one write (one per thread, reused).
    static COALESCED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs a connection from the handler's decision to the end of the TCP stream.
/// Returns how the connection went: whether it opened, how long, what it sent and received.
pub(crate) async fn run(
    conn: Arc<Conn>,
    upgrade: Upgrade,
    config: Arc<WsConfig>,
    caps: Arc<Caps>,
    totals: Arc<Totals>,
) -> Ended {
    // Wait for the handler to accept or refuse.
    poll_fn(|cx| {
        conn.register_driver(cx);
        if conn.is_decided() { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    let (rejection, phase) = {
        let st = conn.lock();
        (st.rejection.clone(), st.phase)
    };
    if phase == Phase::Closed {
        return Default::default(); // refused with a plain HTTP answer: no upgrade
    }
    let Some((io, reader)) = open(upgrade, &config).await else {
        conn.finish(Some(CloseFrame::new(CloseCode::ABNORMAL, "handshake did not complete")));
        return Default::default();
    };
    let opened = Instant::now();
    let mut driver = Driver::new(conn.clone(), io, reader, config);
    driver.caps = driver.meter.is_some().then_some(caps);
    if totals.counting() {
        totals.opened();
        driver.totals = Some(totals);
    }
    match rejection {
        Some(frame) => driver.start_close(frame, false),
        None => {
            conn.lock().phase = Phase::Open;
            conn.outbox().accepting = true;
            conn.wake_handler();
        }
    }
    let how = poll_fn(|cx| driver.poll(cx)).await;
    driver.flush_counts();
    conn.finish(how);
    Ended { opened: true, lasted: opened.elapsed(), counts: driver.counts, peer_chose: driver.peer_chose }
}

/// The socket after the `101`, as a WebSocket. A function of its own so that nothing of the
/// upgrade outlives it: the read-ahead bytes are a slice of hyper's 8 KiB read buffer, which a
/// local of `run` would keep allocated for the connection's lifetime.
async fn open(upgrade: Upgrade, config: &WsConfig) -> Option<(WsIo, Reader)> {
    let (io, read_ahead) = upgrade.open().await.ok()?;
    // The client's first frames may have arrived with its request, before our `101`.
    Some((io, Reader::new(&read_ahead, config.max_message_size)))
}

/// Generic over the byte stream so that tests can script it; the server uses `WsIo`.
struct Driver<S = WsIo> {
    conn: Arc<Conn>,
    io: S,
    reader: Reader,
    config: Arc<WsConfig>,
    /// Frames taken from the shared queue (and the driver's own: pongs, pings, closes), not
    /// yet written; `written` bytes of the first one are out.
    pending: VecDeque<Frame>,
    written: usize,
    needs_flush: bool,
    timer: Pin<Box<Sleep>>,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    idle_deadline: Option<Instant>,
    /// When the connection's token expires (see `ws::auth`); moved by in-band refreshes.
    auth_expiry: Option<Instant>,
    write_blocked_since: Option<Instant>,
    /// Set once we decided to close: the deadline for the peer's answer, which runs from the
    /// moment our close frame is written (`close_sent`), not while queued messages ahead of
    /// it are still being written to a slow client.
    closing: Option<Instant>,
    /// Our close frame is queued: nothing may follow it.
    close_queued: bool,
    close_sent: bool,
    /// A message was handed to the handler since our last ping (it proves the peer alive).
    delivered_since_ping: bool,
    /// How the connection ended (or is ending), for the handler.
    outcome: Option<CloseFrame>,
    read_done: bool,
    /// Set when the socket may have data: read attempts are skipped otherwise (each one is a
    /// system call).
    readable: Arc<Flag>,
    /// The driver's own waker, which the `readable` flag wakes (registered every poll).
    read_parent: Arc<StableWaker>,
    /// The deadline the timer is registered for.
    armed: Option<Instant>,
    /// After bad input the frame stream cannot be parsed any more: raw bytes are read and
    /// dropped until the peer closes or the close timeout, so the client is not reset (a
    /// TCP reset could destroy our close frame before the client reads it).
    discard: bool,
    /// The inbound rate limit, if the route has one.
    meter: Option<Meter>,
    /// Where an address over its rate is put to cool down (with a rate limit only).
    caps: Option<Arc<Caps>>,
    /// What this connection sent and received so far.
    counts: Counts,
    /// Whether the outcome's close code came from the peer.
    peer_chose: bool,
    /// The app's totals (when metrics are on), and how much of `counts` they hold.
    totals: Option<Arc<Totals>>,
    flushed: Counts,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    fn new(conn: Arc<Conn>, io: S, reader: Reader, config: Arc<WsConfig>) -> Self {
        let now = Instant::now();
        let read_parent = StableWaker::new();
        Self {
            next_ping: config.ping_interval.map(|i| now + i),
            idle_deadline: config.idle_timeout.map(|i| now + i),
            auth_expiry: conn.auth_watch().map(|w| auth::deadline(w.expires)),
            conn,
            io,
            reader,
            pending: VecDeque::new(),
            written: 0,
            needs_flush: false,
            timer: Box::pin(tokio::time::sleep_until(now)),
            pong_deadline: None,
            write_blocked_since: None,
            closing: None,
            close_queued: false,
            close_sent: false,
            delivered_since_ping: false,
            outcome: None,
            read_done: false,
            readable: Flag::new(&read_parent),
            read_parent,
            armed: None,
            discard: false,
            meter: config.rate_limit.map(|limit| Meter::new(limit, now)),
            caps: None,
            counts: Counts::default(),
            peer_chose: false,
            totals: None,
            flushed: Counts::default(),
            config,
        }
    }

    /// Adds what was counted since the last time to the app's totals (once per round of
    /// work, so a burst costs one atomic add per total, not one per message).
    fn flush_counts(&mut self) {
        if let Some(totals) = &self.totals
            && self.counts != self.flushed
        {
            totals.add(self.counts - self.flushed);
            self.flushed = self.counts;
        }
    }

    /// Sends our close frame and starts waiting for the peer's answer. A graceful close goes
    /// after everything already queued; an abort (bad input, dead peer) drops the queue.
    fn start_close(&mut self, frame: CloseFrame, graceful: bool) {
        if self.closing.is_some() {
            return;
        }
        self.conn.lock().closing = true;
        let queued = self.conn.stop_accepting(graceful);
        if graceful {
            self.pending.extend(queued);
        } else {
            self.drop_unwritten();
        }
        self.queue_close(Frame::close(&frame));
        self.closing = Some(Instant::now() + self.config.close_timeout);
        // Only the close deadline matters from now on.
        (self.next_ping, self.pong_deadline, self.idle_deadline) = (None, None, None);
        self.outcome.get_or_insert(frame);
        // Nothing more will be sent: release senders waiting for room.
        self.conn.notify_space();
    }

    /// Drops every pending frame not yet started (one partly written must be finished).
    fn drop_unwritten(&mut self) {
        self.pending.truncate(usize::from(self.written > 0));
    }

    /// Queues our close frame, the last frame of the connection.
    fn queue_close(&mut self, frame: Frame) {
        if !self.close_queued {
            self.close_queued = true;
            self.pending.push_back(frame);
        }
    }

    /// One round: handler requests, writes, reads, timers. Ready when the connection is over.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<CloseFrame>> {
        self.conn.register_driver(cx);
        self.read_parent.register(cx);
        loop {
            // With messages still pending (the socket was busy) the outbox is left alone, so
            // the queue stays bounded; once they are written, it must be looked at again in
            // this same poll: its wake-up may already have been spent on this poll.
            let deferred = self.closing.is_none() && !self.pending.is_empty();
            self.take_requests();
            if let Poll::Ready(()) = self.poll_write(cx) {
                return Poll::Ready(self.outcome.take());
            }
            if deferred && self.pending.is_empty() && self.closing.is_none() {
                continue;
            }
            match self.poll_read(cx) {
                Poll::Ready(true) => continue,
                Poll::Ready(false) => return Poll::Ready(self.outcome.take()),
                Poll::Pending => {}
            }
            match self.poll_timers(cx) {
                Poll::Ready(true) => continue,
                Poll::Ready(false) => return Poll::Ready(self.outcome.take()),
                Poll::Pending => {
                    self.flush_counts();
                    return Poll::Pending;
                }
            }
        }
    }

    /// Moves queued messages and close requests from the shared state into the driver.
    fn take_requests(&mut self) {
        let took = self.closing.is_none() && self.pending.is_empty() && self.conn.take_queued(&mut self.pending);
        if took {
            self.conn.notify_space();
            // A close sent as a message (`Message::Close` through a sender or a broadcast) is
            // our close: what was queued before it goes first, nothing after it.
            if let Some(at) = self.pending.iter().position(|f| f.kind() == Kind::Close) {
                let frame = self.pending[at].close_frame();
                self.pending.truncate(at);
                self.conn.stop_accepting(false);
                self.start_close(frame, true);
            }
        }
        // The state lock only when a close or the handler's end was signalled.
        if !self.conn.take_requested() {
            return;
        }
        if self.auth_expiry.is_none() && self.closing.is_none() {
            self.auth_expiry = self.conn.auth_watch().map(|w| auth::deadline(w.expires));
        }
        let (close, aborts, handler_done) = {
            let mut st = self.conn.lock();
            (st.close_request.take(), st.close_aborts, st.handler_done)
        };
        if let Some(frame) = close {
            self.start_close(frame, !aborts);
        } else if handler_done && self.closing.is_none() {
            self.start_close(CloseFrame::new(CloseCode::NORMAL, ""), true);
        }
    }

    /// Writes everything pending, then flushes. Ready(()) means the connection is unusable.
    ///
    /// Several frames adding up to at most 16 KiB are copied into one buffer and go out in
    /// one plain write: for frames of tens of bytes the kernel spends more per buffer of a
    /// `writev` than the copy costs (measured on fanout to 1,000: BENCHMARKS.md, Session 7).
    /// More go as they are, in one vectored write.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while let Some(front) = self.pending.front() {
            let first = &front.bytes()[self.written..];
            let io = Pin::new(&mut self.io);
            let frames = self.pending.len().min(MAX_SLICES);
            let wrote = if frames == 1 {
                io.poll_write(cx, first)
            } else {
                let rest = || self.pending.iter().skip(1).take(frames - 1).map(|f| &f.bytes()[..]);
                if first.len() + rest().map(<[u8]>::len).sum::<usize>() <= COALESCE_UP_TO {
                    COALESCED.with_borrow_mut(|batch| {
                        batch.clear();
                        batch.extend_from_slice(first);
                        rest().for_each(|b| batch.extend_from_slice(b));
                        io.poll_write(cx, batch)
                    })
                } else {
                    let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                    slices[0] = IoSlice::new(first);
                    for (slot, bytes) in slices[1..].iter_mut().zip(rest()) {
                        *slot = IoSlice::new(bytes);
                    }
                    io.poll_write_vectored(cx, &slices[..frames])
                }
            };
            let mut n = match wrote {
                Poll::Ready(Ok(0)) => return self.write_failed(std::io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return self.write_failed(e),
                Poll::Pending => return self.write_blocked(),
            };
            self.write_blocked_since = None; // the socket took more: progress
            self.needs_flush = true;
            while let Some(front) = self.pending.front() {
                let rest = front.bytes().len() - self.written;
                if n < rest {
                    self.written += n;
                    break;
                }
                n -= rest;
                self.written = 0;
                let (kind, len) = (front.kind(), front.len());
                self.pending.pop_front();
                match kind {
                    Kind::Data => {
                        self.counts.messages_out += 1;
                        self.counts.bytes_out += len as u64;
                    }
                    Kind::Close => {
                        self.close_sent = true;
                        self.closing = Some(Instant::now() + self.config.close_timeout);
                    }
                    Kind::Ping | Kind::Pong => {}
                }
            }
        }
        if self.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return self.write_failed(e),
                Poll::Pending => return self.write_blocked(),
            }
        }
        self.write_blocked_since = None;
        Poll::Pending
    }

    fn write_blocked(&mut self) -> Poll<()> {
        self.write_blocked_since.get_or_insert_with(Instant::now);
        Poll::Pending
    }

    fn write_failed(&mut self, e: std::io::Error) -> Poll<()> {
        tracing::debug!(id = %self.conn.id, error = %e, "websocket write failed");
        self.outcome.get_or_insert_with(|| CloseFrame::new(CloseCode::ABNORMAL, "connection lost"));
        Poll::Ready(())
    }

    /// Reads one frame if the handler has room. Ready(true): progress; Ready(false): over.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        if self.discard {
            return self.poll_discard(cx);
        }
        if self.read_done {
            // Nothing more can be read; stay until what we queued (our close) is written.
            return if self.needs_flush || !self.pending.is_empty() { Poll::Pending } else { Poll::Ready(false) };
        }
        // While closing, data is read and dropped so the peer's close answer gets through.
        if !self.readable.take() {
            return Poll::Pending; // no readiness since the last attempt returned Pending
        }
        if self.closing.is_none() && self.conn.inbound_waiting() {
            self.readable.set(); // still readable: read once the handler took the message
            return Poll::Pending;
        }
        if self.pending.len() > self.conn.max_queue + PENDING_SLACK {
            // Answers of our own (to token refreshes) pile up while the client does not read:
            // read no more until they are written.
            self.readable.set();
            return Poll::Pending;
        }
        let (reader, io) = (&mut self.reader, &mut self.io);
        let item = match self.readable.poll_with(|cx| reader.poll_next(cx, io)) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => {
                self.readable.set(); // more may be buffered
                item
            }
        };
        match item {
            Ok(None) => {
                self.read_done = true;
                self.outcome.get_or_insert_with(|| CloseFrame::new(CloseCode::ABNORMAL, "connection lost"));
                // When closing, stay until our close is written (the peer may still read).
                Poll::Ready(self.closing.is_some())
            }
            Ok(Some(msg)) => {
                self.on_message(msg);
                Poll::Ready(true)
            }
            Err(e) => self.on_read_error(e),
        }
    }

    fn on_message(&mut self, msg: Incoming) {
        self.pong_deadline = None; // any frame proves the peer is alive
        if let Incoming::Text(t) = &msg {
            self.counts.messages_in += 1;
            self.counts.bytes_in += t.len() as u64;
        } else if let Incoming::Binary(b) = &msg {
            self.counts.messages_in += 1;
            self.counts.bytes_in += b.len() as u64;
        }
        if matches!(msg, Incoming::Text(_) | Incoming::Binary(_) | Incoming::Ping(_))
            && self.closing.is_none()
            && let Some(meter) = &mut self.meter
            && meter.over()
        {
            let limit = meter.limit();
            let reason = format!("too many messages: over the limit of {limit}");
            if let (Some(caps), Some(addr)) = (&self.caps, self.conn.remote) {
                caps.cool_down(addr.ip(), limit.per);
            }
            tracing::info!(id = %self.conn.id, remote = ?self.conn.remote, %reason, "closing a connection over its rate limit");
            // Not graceful: what it queued is dropped; what it sends next is read and dropped.
            self.start_close(CloseFrame::new(CloseCode::RATE_LIMITED, reason), false);
            return;
        }
        match msg {
            Incoming::Text(t) => self.deliver(Message::Text(t)),
            Incoming::Binary(b) => self.deliver(Message::Binary(b)),
            Incoming::Ping(payload) => {
                if !self.close_queued {
                    // At most one pong waits: a newer ping's answer replaces it (RFC 6455
                    // allows answering only the latest), so pings cannot pile up frames.
                    let pong = Frame::pong(&payload);
                    let start = usize::from(self.written > 0);
                    match self.pending.iter().skip(start).position(|f| f.kind() == Kind::Pong) {
                        Some(i) => self.pending[start + i] = pong,
                        None => self.pending.push_back(pong),
                    }
                }
            }
            Incoming::Pong => {}
            Incoming::Close(frame) => {
                // Nothing can be read after the peer's close: the connection ends once our
                // answer (or our own close, if we closed first) is written.
                self.read_done = true;
                self.peer_chose |= self.outcome.is_none();
                let frame = frame.unwrap_or(CloseFrame { code: CloseCode::NO_STATUS, reason: String::new() });
                if self.closing.is_none() {
                    // The answer carries the peer's code; senders are told it is over.
                    self.closing = Some(Instant::now() + self.config.close_timeout);
                    self.conn.lock().closing = true;
                    self.conn.stop_accepting(false);
                    self.drop_unwritten();
                    self.queue_close(Frame::close(&frame)); // the peer's code and reason, echoed
                    (self.next_ping, self.pong_deadline, self.idle_deadline) = (None, None, None);
                    self.conn.notify_space();
                }
                self.outcome.get_or_insert(frame);
            }
        }
    }

    fn deliver(&mut self, msg: Message) {
        if self.closing.is_some() {
            return;
        }
        // `{"type": "auth", "token": ..}` on an authenticated socket refreshes its token.
        if let (Message::Text(text), Some(watch)) = (&msg, self.conn.auth_watch())
            && let Some(token) = auth::auth_message(text)
        {
            let answer = match watch.refresh(&token) {
                Ok(exp) => {
                    self.auth_expiry = Some(auth::deadline(exp));
                    auth::auth_ok(Some(exp))
                }
                Err(e) => {
                    serde_json::json!({ "type": "error", "message": format!("token refresh refused: {e}") }).to_string()
                }
            };
            self.pending.push_back(Frame::text(&answer));
            return;
        }
        // No clock read per message unless an idle timeout is set (it costs as much as a
        // tenth of the rest of the driver's work per message).
        if let Some(idle) = self.config.idle_timeout {
            self.idle_deadline = Some(Instant::now() + idle);
        }
        self.delivered_since_ping = true;
        self.conn.hand_over(msg);
    }

    fn on_read_error(&mut self, e: ReadError) -> Poll<bool> {
        let frame = match e {
            ReadError::TooBig { size, max } => CloseFrame::new(
                CloseCode::MESSAGE_TOO_BIG,
                format!("message too big: {size} bytes, the limit is {max}"),
            ),
            ReadError::Utf8 => CloseFrame::new(CloseCode::INVALID_PAYLOAD, "invalid UTF-8 in a text message"),
            ReadError::Protocol(what) => CloseFrame::new(CloseCode::PROTOCOL_ERROR, format!("protocol error: {what}")),
            ReadError::Io(e) => {
                tracing::debug!(id = %self.conn.id, error = %e, "websocket read failed");
                self.read_done = true;
                self.outcome.get_or_insert_with(|| CloseFrame::new(CloseCode::ABNORMAL, "connection lost"));
                return Poll::Ready(false);
            }
        };
        tracing::debug!(id = %self.conn.id, code = frame.code.as_u16(), reason = %frame.reason, "closing on bad input");
        // The stream is not readable past a bad frame: send our close, then drop raw input.
        self.start_close(frame, false);
        self.discard = true;
        Poll::Ready(true)
    }

    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut scratch = [0u8; 2048];
        loop {
            let mut buf = tokio::io::ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => continue,
                Poll::Ready(_) => {
                    self.discard = false;
                    self.read_done = true;
                    return Poll::Ready(true);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Fires due timers. Ready(true): progress; Ready(false): give up on the connection.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        if self.read_done && !self.discard && !self.needs_flush && self.pending.is_empty() {
            return Poll::Ready(false); // our close went out and nothing can be read: done
        }
        // The timer is armed for the earliest deadline: while it has not fired and no
        // deadline moved, nothing is due, and the clock is not read (once per poll was a
        // tenth of the driver's work per message).
        let next = self.next_deadline();
        if next == self.armed && (next.is_none() || !self.timer.is_elapsed()) {
            return Poll::Pending;
        }
        let now = Instant::now();
        if let Some(deadline) = self.closing
            && self.close_sent
            && now >= deadline
        {
            return Poll::Ready(false);
        }
        if let Some(since) = self.write_blocked_since
            && now >= since + self.config.write_timeout
        {
            tracing::debug!(id = %self.conn.id, "client stopped reading; dropping the connection");
            self.outcome.get_or_insert_with(|| CloseFrame::new(CloseCode::ABNORMAL, "write timeout"));
            return Poll::Ready(false);
        }
        if self.closing.is_none() {
            if let Some(deadline) = self.pong_deadline
                && now >= deadline
            {
                let writing = self.write_blocked_since.is_some() || !self.pending.is_empty();
                // A message that arrived after our ping proves the peer alive even if we are
                // not reading its pong yet (the handler has not taken that message).
                let alive = self.delivered_since_ping && self.conn.inbound_waiting();
                if writing || alive {
                    // Our ping may still be queued behind a batch: give the answer time.
                    self.pong_deadline = Some(now + self.config.pong_timeout);
                } else {
                    self.start_close(CloseFrame::new(CloseCode::GOING_AWAY, "ping timeout"), false);
                    return Poll::Ready(true);
                }
            }
            if let Some(deadline) = self.auth_expiry
                && now >= deadline
            {
                self.auth_expiry = None;
                if let Some(watch) = self.conn.auth_watch() {
                    self.start_close(watch.expired_frame(), true);
                    return Poll::Ready(true);
                }
            }
            if let Some(deadline) = self.idle_deadline
                && now >= deadline
            {
                self.start_close(CloseFrame::new(CloseCode::GOING_AWAY, "idle timeout"), true);
                return Poll::Ready(true);
            }
            if let (Some(at), Some(interval)) = (self.next_ping, self.config.ping_interval)
                && now >= at
            {
                self.pending.push_back(Frame::ping());
                self.delivered_since_ping = false;
                self.next_ping = Some(now + interval);
                if self.pong_deadline.is_none() {
                    self.pong_deadline = Some(now + self.config.pong_timeout);
                }
                return Poll::Ready(true);
            }
        }
        self.arm(cx, self.next_deadline())
    }

    /// The earliest deadline of the connection, if any.
    fn next_deadline(&self) -> Option<Instant> {
        [
            self.closing.filter(|_| self.close_sent),
            self.write_blocked_since.map(|s| s + self.config.write_timeout),
            self.pong_deadline,
            self.idle_deadline,
            self.next_ping,
            self.auth_expiry.filter(|_| self.closing.is_none()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Arms the timer for `next`. Registering with the timer on every poll is not free:
    /// only when the deadline moves. Ready(true) if it is already due.
    fn arm(&mut self, cx: &mut Context<'_>, next: Option<Instant>) -> Poll<bool> {
        if let Some(next) = next
            && self.armed != Some(next)
        {
            // Out of cooperative budget, the timer answers Pending without registering: it
            // is then not armed, and is polled again on the next round.
            let budget = tokio::task::coop::has_budget_remaining();
            self.timer.as_mut().reset(next);
            if self.timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            if budget {
                self.armed = Some(next);
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io,
        sync::{
            Mutex,
            atomic::{AtomicBool, Ordering},
        },
    };

    use bytes::Bytes;
    use tokio::io::ReadBuf;

    use super::*;
    use crate::ws::{ConnectionId, SlowConsumer};

    /// A byte stream whose writes can be held back; reads never complete.
    #[derive(Clone, Default)]
    struct Scripted {
        blocked: Arc<AtomicBool>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl AsyncRead for Scripted {
        fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    impl AsyncWrite for Scripted {
        fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            if self.blocked.load(Ordering::SeqCst) {
                return Poll::Pending;
            }
            self.written.lock().unwrap().extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            if self.blocked.load(Ordering::SeqCst) { Poll::Pending } else { Poll::Ready(Ok(())) }
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// Regression: a message queued while earlier ones were still waiting for a busy socket
    /// was left in the queue once those went out, until some later wake-up (seen as one
    /// receiver in 10,000 missing a broadcast in benches/broadcast.rs).
    #[tokio::test]
    async fn a_message_queued_while_the_socket_was_busy_goes_out_once_it_drains() {
        let (decision, _) = tokio::sync::oneshot::channel();
        let conn = Arc::new(Conn::new(
            ConnectionId::generate(),
            None,
            &WsConfig { max_queue: 16, slow_consumer: SlowConsumer::Close, ..WsConfig::default() },
            decision,
        ));
        conn.outbox().accepting = true;
        let stream = Scripted::default();
        let config = Arc::new(WsConfig::default());
        let reader = Reader::new(&[], config.max_message_size);
        let mut driver = Driver::new(conn.clone(), stream.clone(), reader, config);
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());

        // A large message keeps the driver busy while the socket blocks.
        stream.blocked.store(true, Ordering::SeqCst);
        assert_eq!(conn.offer(Frame::text(&"x".repeat(20 * 1024))), super::super::conn::Offer::Queued);
        assert_eq!(conn.offer(Frame::text("first")), super::super::conn::Offer::Queued);
        assert!(driver.poll(&mut cx).is_pending());
        assert!(!driver.pending.is_empty(), "the socket should have been busy");

        // Queued now; its wake-up is spent on the next poll, which finds the socket free again.
        assert_eq!(conn.offer(Frame::text("second")), super::super::conn::Offer::Queued);
        stream.blocked.store(false, Ordering::SeqCst);
        assert!(driver.poll(&mut cx).is_pending());

        let written = stream.written.lock().unwrap().clone();
        assert!(contains(&written, "first"), "the pending message was not written");
        assert!(contains(&written, "second"), "the message queued meanwhile was left in the queue");
        assert!(conn.outbox().queue.is_empty());
    }

    /// A socket that takes at most 7 bytes per write, across slices.
    #[derive(Clone, Default)]
    struct Trickle(Arc<Mutex<Vec<u8>>>);

    impl AsyncRead for Trickle {
        fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    impl AsyncWrite for Trickle {
        fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            let n = buf.len().min(7);
            self.0.lock().unwrap().extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_write_vectored(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut taken = 0;
            let mut out = self.0.lock().unwrap();
            for b in bufs {
                let n = b.len().min(7 - taken);
                out.extend_from_slice(&b[..n]);
                taken += n;
                if taken == 7 {
                    break;
                }
            }
            Poll::Ready(Ok(taken))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Frames written several at a time and cut anywhere by short writes reach the socket
    /// whole and in order, each counted once.
    #[tokio::test]
    async fn frames_cut_by_short_vectored_writes_arrive_whole_and_in_order() {
        let (decision, _) = tokio::sync::oneshot::channel();
        let conn = Arc::new(Conn::new(
            ConnectionId::generate(),
            None,
            &WsConfig { max_queue: 1000, ..WsConfig::default() },
            decision,
        ));
        conn.outbox().accepting = true;
        let stream = Trickle::default();
        let config = Arc::new(WsConfig::default());
        let reader = Reader::new(&[], config.max_message_size);
        let mut driver = Driver::new(conn.clone(), stream.clone(), reader, config);
        // Small frames (copied into one buffer) and, every 50th, one of 20 KB (vectored writes).
        let frames: Vec<Frame> =
            (0..200).map(|i| Frame::text(&"m".repeat(if i % 50 == 49 { 20_000 } else { i % 150 }))).collect();
        for f in &frames {
            assert_eq!(conn.offer(f.clone()), super::super::conn::Offer::Queued);
        }
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        assert!(driver.poll(&mut cx).is_pending());
        let expected: Vec<u8> = frames.iter().flat_map(|f| f.bytes().to_vec()).collect();
        assert_eq!(*stream.0.lock().unwrap(), expected);
        assert_eq!(driver.counts.messages_out, 200);
        assert!(driver.pending.is_empty() && driver.written == 0);
    }

    fn driver_on(stream: Scripted, max_queue: usize) -> (Arc<Conn>, Driver<Scripted>) {
        let (decision, _) = tokio::sync::oneshot::channel();
        let conn = Arc::new(Conn::new(
            ConnectionId::generate(),
            None,
            &WsConfig { max_queue, ..WsConfig::default() },
            decision,
        ));
        conn.outbox().accepting = true;
        let config = Arc::new(WsConfig::default());
        let reader = Reader::new(&[], config.max_message_size);
        (conn.clone(), Driver::new(conn, stream, reader, config))
    }

    /// A client that pings without reading gets one pong waiting, the latest, not one per ping.
    #[tokio::test]
    async fn pings_from_a_client_that_does_not_read_leave_one_pong_waiting() {
        let stream = Scripted::default();
        stream.blocked.store(true, Ordering::SeqCst);
        let (_conn, mut driver) = driver_on(stream.clone(), 16);
        for i in 0..1000u32 {
            driver.on_message(Incoming::Ping(Bytes::from(i.to_be_bytes().to_vec())));
        }
        assert_eq!(driver.pending.len(), 1);
        assert_eq!(&driver.pending[0].bytes()[2..], &999u32.to_be_bytes());
        stream.blocked.store(false, Ordering::SeqCst);
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        assert!(driver.poll(&mut cx).is_pending());
        assert_eq!(*stream.written.lock().unwrap(), [&[0x8a, 4][..], &999u32.to_be_bytes()].concat());
    }

    /// A `Message::Close` queued like any message (a sender's, a broadcast's) is the driver's
    /// close: what came before it is written, nothing after it, and no second close follows.
    #[tokio::test]
    async fn a_close_sent_as_a_message_is_the_last_frame() {
        let stream = Scripted::default();
        let (conn, mut driver) = driver_on(stream.clone(), 16);
        let bye = CloseFrame::new(CloseCode::from_u16(4000), "bye");
        conn.offer(Frame::text("before"));
        conn.offer(Frame::message(&Message::Close(Some(bye.clone()))));
        conn.offer(Frame::text("after"));
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        assert!(driver.poll(&mut cx).is_pending());
        conn.request_close(CloseFrame::new(CloseCode::NORMAL, "again"));
        driver.on_message(Incoming::Ping(Bytes::new()));
        assert!(driver.poll(&mut cx).is_pending());
        let expected = [Frame::text("before").bytes().to_vec(), Frame::close(&bye).bytes().to_vec()].concat();
        assert_eq!(*stream.written.lock().unwrap(), expected);
        assert!(driver.close_sent);
        assert_eq!(driver.outcome, Some(bye));
    }
}
