//! Entry points of the fuzz targets in `fuzz/` (run with `cargo fuzz`, see `fuzz/README.md`).
//! Not a public API: names here change freely.
//!
//! Each function feeds raw input to the real parsing code (nothing is copied here) and panics
//! when one of the code's promises is broken, so that the fuzzer reports it as a crash.

use sockeye_path::Segment;
use std::{
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use poem::http::Uri;
use serde_json::Value;

use crate::{
    auth::{Auth, Secured},
    hub::pubsub::{self, Command, MAX_TOPIC_BYTES},
    live::{Column, Filter, Kind, Schema},
    route::{PathParams, path},
    router::Matcher,
    ws::reader::{Incoming, ReadError, Reader},
};

/// The longest error message a decoder may send back: errors name what was wrong, and never
/// echo a whole (possibly huge) input.
const MAX_ERROR_BYTES: usize = 512;

/// Route path templates (`route::path`, which the route macros also run at compile time).
///
/// `input` is UTF-8 lines: a template (`/items/<id>`), then optionally a request path to
/// route, then parameter values. A template that parses must render back to itself, be taken
/// by the app's router (`router::Matcher`), and be matched by a path built from the values,
/// which the router must hand back unchanged; a request path it routes must be the template
/// with the bound values put in.
pub fn route_path(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else { return };
    let mut lines = text.split('\n');
    let template = lines.next().unwrap_or_default();
    let request = lines.next();
    let values: Vec<&str> = lines.collect();

    let segments = match path::parse(template) {
        Ok(segments) => segments,
        Err(e) => {
            assert!(!e.message.is_empty(), "an empty error for {template:?}");
            return;
        }
    };
    check_segments(template, &segments);
    // A router prefix (a template without parameters) joined to a route path.
    if path::params(&segments).is_empty() {
        let joined = path::join(template, template);
        let twice: Vec<Segment<'_>> = segments.iter().chain(&segments).copied().collect();
        assert_eq!(path::parse(&joined).as_ref(), Ok(&twice), "{template:?} joined to itself: {joined:?}");
        assert_eq!(path::parse(&path::join(template, "/")).as_ref(), Ok(&segments), "{template:?} joined to /");
    }

    let mut route = Matcher::default();
    if route.insert(&segments, (), false).is_err() {
        panic!("{template:?} parses, but the router refuses it");
    }

    // A path built from the template is routed to it, with the values it was built from
    // (decoded; one that is not UTF-8 once decoded is bound as `None`).
    let mut values = values.into_iter();
    let mut built = String::new();
    let mut expected = Vec::new();
    for segment in &segments {
        built.push('/');
        match segment {
            Segment::Static(s) => built.push_str(&path::encode_literal(s)),
            Segment::Param(_) | Segment::Rest(_) => {
                let rest = matches!(segment, Segment::Rest(_));
                let mut value = percent_encode(values.next().unwrap_or_default(), rest);
                if value.is_empty() {
                    value.push('_');
                }
                built.push_str(&value);
                expected.push(percent_decode(&value));
            }
        }
    }
    if built.is_empty() {
        built.push('/');
    }
    if let Ok(uri) = built.parse::<Uri>() {
        match route_request(&route, uri, expected.len()) {
            Some(bound) => assert_eq!(bound, expected, "{built:?} routed to {template:?}"),
            None => panic!("{built:?}, built from {template:?}, is not routed to it"),
        }
    }

    // Any request path the router gives to the route is the template with the values put in:
    // its literal segments, one segment for each parameter, the rest for `<rest..>`.
    if let Some(request) = request
        && request.starts_with('/')
        && let Ok(uri) = request.parse::<Uri>()
        && uri.path() == request
        && let Some(bound) = route_request(&route, uri, expected.len())
    {
        let mut remaining = &request[1..];
        let mut bound = bound.into_iter();
        for (i, segment) in segments.iter().enumerate() {
            let (raw, next) = match segment {
                Segment::Rest(_) => (remaining, ""),
                _ => remaining.split_once('/').unwrap_or((remaining, "")),
            };
            match segment {
                Segment::Static(s) => assert_eq!(raw, path::encode_literal(s), "{request:?} routed to {template:?}"),
                Segment::Param(_) | Segment::Rest(_) => {
                    assert_eq!(bound.next(), Some(percent_decode(raw)), "{request:?} routed to {template:?}");
                }
            }
            let last = i + 1 == segments.len();
            assert!(
                !last || matches!(segment, Segment::Rest(_)) || remaining.len() == raw.len(),
                "{request:?} routed to {template:?} with {next:?} left over"
            );
            remaining = next;
        }
        if segments.is_empty() {
            assert_eq!(request, "/");
        }
    }
}

/// The promises of a parsed template: identifiers, unique names, `<rest..>` last, literal
/// segments without special characters, and a canonical form that parses back the same.
fn check_segments(template: &str, segments: &[Segment<'_>]) {
    let mut canonical = String::new();
    for (i, segment) in segments.iter().enumerate() {
        canonical.push('/');
        match *segment {
            Segment::Static(s) => {
                assert!(!s.is_empty() && !s.contains('/'), "{template:?}: literal {s:?}");
                assert!(
                    !s.chars().any(|c| "<>{}:*?#".contains(c) || c.is_whitespace()),
                    "{template:?}: literal {s:?} has a reserved character"
                );
                canonical.push_str(s);
            }
            Segment::Param(name) | Segment::Rest(name) => {
                let rest = matches!(segment, Segment::Rest(_));
                assert!(!rest || i + 1 == segments.len(), "{template:?}: <{name}..> is not last");
                assert!(
                    name != "_"
                        && name.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
                        && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()),
                    "{template:?}: parameter name {name:?}"
                );
                canonical.push_str(&format!("<{name}{}>", if rest { ".." } else { "" }));
            }
        }
    }
    let params = path::params(segments);
    for (i, name) in params.iter().enumerate() {
        assert!(!params[..i].contains(name), "{template:?}: parameter `{name}` twice");
    }
    if canonical.is_empty() {
        canonical.push('/');
    }
    match path::parse(&canonical) {
        Ok(again) => assert_eq!(again, segments, "{template:?} written as {canonical:?}"),
        Err(e) => panic!("{template:?} parses, its canonical form {canonical:?} does not: {e}"),
    }
    assert_eq!(path::shape(segments).matches('/').count(), segments.len().max(1));
}

/// Percent-encodes all but unreserved characters (and `/` in a rest value).
fn percent_encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The percent-decoded text of `raw`, as the router binds a path parameter (`None`: not
/// UTF-8 once decoded).
fn percent_decode(raw: &str) -> Option<String> {
    let (bytes, mut out, mut i) = (raw.as_bytes(), Vec::new(), 0);
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Routes a request for `uri`: the values bound to the route's `count` parameters, or `None`
/// for a 404.
fn route_request(route: &Matcher<()>, uri: Uri, count: usize) -> Option<Vec<Option<String>>> {
    let mut params = PathParams::default();
    route.find(uri.path(), &mut params)?;
    assert_eq!(params.len(), count, "one value for each parameter");
    Some((0..count).map(|i| params.get(uri.path(), i).map(str::to_string)).collect())
}

/// The pub/sub protocol (`hub::pubsub`): `input` is one text message from a client.
///
/// Decoded commands carry a topic of 1 to [`MAX_TOPIC_BYTES`] bytes; everything else is
/// answered with a short `{"type": "error", ..}` (or a `pong` / `stats` reply).
pub fn pubsub_decode(input: &[u8]) {
    // A WebSocket text message is UTF-8 (the connection checks it before the protocol runs).
    let Ok(text) = std::str::from_utf8(input) else { return };
    let msg = match pubsub::parse(text) {
        Ok(msg) => msg,
        Err(e) => return check_error(&e),
    };
    // A request id is echoed as given (short), and turns no answer into an ack.
    match pubsub::request_id(&msg) {
        Err(e) => check_error(&e),
        Ok(None) => assert_eq!(pubsub::answer(None, None, &msg), None),
        Ok(Some(id)) => {
            assert!(id.is_number() || id.as_str().is_some_and(|s| s.len() <= pubsub::MAX_ID_BYTES), "{text:?}");
            let ack = pubsub::answer(None, Some(id.clone()), &msg).expect("a request with an id is answered");
            assert_eq!((&ack["type"], &ack["id"]), (&Value::from("ack"), &id));
            let refused = pubsub::answer(Some(pubsub::error("no")), Some(id.clone()), &msg).expect("answered");
            assert!(refused["topic"].as_str().is_none_or(|t| t.len() <= MAX_TOPIC_BYTES), "{text:?}");
        }
    }
    let topic_ok = |topic: &str| !topic.is_empty() && topic.len() <= MAX_TOPIC_BYTES;
    let action = msg.get("action").and_then(Value::as_str);
    match pubsub::decode(&msg) {
        Err(e) => check_error(&e),
        Ok(Command::Subscribe { topic, since }) => {
            assert!(topic_ok(topic) && action == Some("subscribe"), "{text:?}");
            match pubsub::since_position(since) {
                Ok(Some(position)) => {
                    assert_eq!(since.and_then(|s| s.get("epoch")), Some(&Value::from(position.epoch)));
                }
                Ok(None) => assert!(since.is_none_or(Value::is_null)),
                Err(e) => check_error(&e),
            }
        }
        Ok(Command::Unsubscribe { topic }) => assert!(topic_ok(topic) && action == Some("unsubscribe"), "{text:?}"),
        Ok(Command::Publish { topic, data }) => {
            assert!(topic_ok(topic) && action == Some("publish"), "{text:?}");
            assert_eq!(data, msg.get("data"));
        }
        Ok(Command::Common) => {
            assert!(!msg.contains_key("action"), "{text:?}");
            let reply =
                pubsub::common_reply(&msg, || serde_json::json!({})).expect("a reply to a message without action");
            match reply["type"].as_str() {
                Some("pong" | "stats") => {}
                _ => check_error(&reply),
            }
        }
    }
}

/// An error reply: `{"type": "error", "message": ..}`, short.
fn check_error(reply: &Value) {
    assert_eq!(reply["type"], "error", "{reply}");
    let message = reply["message"].as_str().unwrap_or_else(|| panic!("no message in {reply}"));
    assert!(!message.is_empty() && message.len() <= MAX_ERROR_BYTES, "error of {} bytes", message.len());
}

/// The table the live-filter target filters: one column of most kinds.
static FUZZ_SCHEMA: Schema = Schema {
    table: "things",
    columns: &[
        Column::new("id", Kind::Integer, false, true),
        Column::new("owner_id", Kind::Integer, false, false),
        Column::new("name", Kind::Text, true, false),
        Column::new("done", Kind::Bool, false, false),
        Column::new("weight", Kind::Real, true, false),
        Column::new("due", Kind::TimestampTz, true, false),
        Column::new("local", Kind::Timestamp, true, false),
        Column::new("day", Kind::Date, true, false),
        Column::new("ref", Kind::Uuid, true, false),
        Column::new("price", Kind::Decimal, true, false),
        Column::new("meta", Kind::Json, true, false),
    ],
};

/// Live-model filters (`live::filter`, `live::value`): the first byte chooses the form, even
/// for a subscription's JSON object (`{"owner_id": 42, "due__gt": ".."}`), odd for a REST
/// query string (`owner_id=42&price__in=1,2.5`); the rest is the filter.
///
/// A filter accepted in one form is accepted in the other with the same meaning, keeps its
/// values in canonical form (normalizing them again changes nothing), in column order, and
/// matches rows whatever they hold without panic.
pub fn live_filter(input: &[u8]) {
    let Some((&form, rest)) = input.split_first() else { return };
    let filter = if form.is_multiple_of(2) {
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(rest) else { return };
        match Filter::from_json(&FUZZ_SCHEMA, &object) {
            Ok(filter) => {
                assert_eq!(filter.conditions.len(), object.len());
                filter
            }
            Err(e) => {
                assert!(!e.is_empty() && e.len() <= MAX_ERROR_BYTES, "error of {} bytes", e.len());
                return;
            }
        }
    } else {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(rest).into_owned().collect();
        let filter = match Filter::from_query(&FUZZ_SCHEMA, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(filter) => filter,
            Err((_, e)) => {
                assert!(!e.is_empty() && e.len() <= MAX_ERROR_BYTES, "error of {} bytes", e.len());
                return;
            }
        };
        assert_eq!(filter.conditions.len(), pairs.len());
        let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() < pairs.len() {
            // `a=1&a=2` asks for both (so matches nothing); JSON cannot say that.
            return;
        }
        filter
    };
    check_filter(&filter);
    // The row the rest of the input spells, whatever it is, is matched or not without panic.
    if let Ok(row) = serde_json::from_slice::<Value>(rest) {
        let _ = filter.matches(&row);
    }
}

fn check_filter(filter: &Filter) {
    use crate::live::{filter::Op, value};
    let mut last = 0;
    for c in &filter.conditions {
        let position = FUZZ_SCHEMA.columns.iter().position(|col| col.name == c.column.name).expect("a column");
        assert!(position >= last, "conditions out of column order: {:?}", filter.conditions);
        last = position;
        let values = match (&c.op, &c.value) {
            (Op::IsNull, v) => {
                assert!(v.is_boolean(), "isnull holds {v}");
                continue;
            }
            (Op::In, Value::Array(items)) => items.clone(),
            (Op::In, v) => panic!("in holds {v}"),
            (_, v) => vec![v.clone()],
        };
        for v in values {
            assert_eq!(value::normalize(c.column.kind, &v).as_ref(), Ok(&v), "`{}` holds {v}, not canonical", c.key());
        }
    }
    let json = filter.to_json();
    let Value::Object(object) = &json else { panic!("to_json gave {json}") };
    assert_eq!(Filter::from_json(&FUZZ_SCHEMA, object).as_ref(), Ok(filter), "{json} read back");
    // As a query string, unless a listed text holds the list's comma.
    let mut pairs = Vec::new();
    for (k, v) in object {
        let one = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let text = match v {
            Value::Array(items)
                if items.iter().any(|i| i.as_str().is_some_and(|s| s.contains(',')))
                    || (items.len() == 1 && items[0] == "") =>
            {
                return;
            }
            Value::Array(items) => items.iter().map(one).collect::<Vec<_>>().join(","),
            v => one(v),
        };
        pairs.push((k.clone(), text));
    }
    let query = Filter::from_query(&FUZZ_SCHEMA, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(query.as_ref().map_err(|e| &e.1), Ok(filter), "{pairs:?} as a query");
}

/// The HS256 secret, issuer, audience and API key the JWT target checks against.
const SECRET: &[u8] = b"sockeye fuzzing secret, at least 32 bytes long";
const ISSUER: &str = "sockeye-fuzz";
const AUDIENCE: &str = "fuzz-clients";
const API_KEY: &str = "fuzz-api-key";
const LEEWAY: u64 = 5;

fn fuzz_auth() -> &'static Auth {
    static AUTH: OnceLock<Auth> = OnceLock::new();
    AUTH.get_or_init(|| {
        Auth::hs256(SECRET)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .leeway(std::time::Duration::from_secs(LEEWAY))
            .api_key_with_roles(API_KEY, ["admin"])
    })
}

/// Token extraction and verification (`auth::source`, `auth::verify`, the WebSocket auth
/// message). The first byte chooses:
///
/// - even: extraction. The rest is lines: an `Authorization` header value, a
///   `Sec-WebSocket-Protocol` value, a query string and a WebSocket text message; bits 1 and
///   2 say whether the two headers are sent, bit 3 whether the request is a WebSocket
///   handshake, bit 4 whether `?token=` is read. Each token found is verified.
/// - odd: verification of signed tokens. The rest is the token's payload (its claims), signed
///   with the right key under a header chosen by bits 1-3 (`HS256`, `none`, another
///   algorithm, or the first line of the rest). An accepted token must have been signed
///   with HS256 and carry a current `exp`, a current `nbf` if any, and the configured `iss`
///   and `aud`.
pub fn jwt_extract(input: &[u8]) {
    let Some((&flags, rest)) = input.split_first() else { return };
    if flags.is_multiple_of(2) {
        extract(flags, rest);
    } else {
        signed(flags, rest);
    }
}

fn extract(flags: u8, rest: &[u8]) {
    let mut fields = rest.splitn(4, |b| *b == b'\n');
    let (authorization, protocol) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
    let (query, message) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
    let (websocket, read_query) = (flags & 8 != 0, flags & 16 != 0);

    let query = String::from_utf8_lossy(query);
    let uri = format!("/ws?{query}").parse::<Uri>().unwrap_or_else(|_| Uri::from_static("/ws"));
    let mut builder = poem::Request::builder().uri(uri);
    let header = |bytes: &[u8]| poem::http::HeaderValue::from_bytes(bytes).ok();
    if flags & 2 != 0
        && let Some(value) = header(authorization)
    {
        builder = builder.header(poem::http::header::AUTHORIZATION, value);
    }
    if flags & 4 != 0
        && let Some(value) = header(protocol)
    {
        builder = builder.header(poem::http::header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    let request = builder.finish();

    match crate::auth::token_from_request(&request, websocket, read_query) {
        Ok(Some((token, source))) => {
            use crate::auth::TokenSource;
            match source {
                TokenSource::Header => {
                    assert!(!token.is_empty() && !token.contains(' '), "header token {token:?}");
                    let value = request.headers()[poem::http::header::AUTHORIZATION].to_str().unwrap_or_default();
                    assert!(value.contains(&token), "{token:?} is not in {value:?}");
                }
                TokenSource::Protocol => assert!(websocket, "a subprotocol token outside a handshake"),
                TokenSource::Query => assert!(read_query, "a query token while the query is off"),
            }
            verify(&token);
        }
        Ok(None) => assert!(request.headers().get(poem::http::header::AUTHORIZATION).is_none()),
        Err(_) => {}
    }
    if let Ok(text) = std::str::from_utf8(message)
        && let Some(token) = crate::ws::auth::auth_message(text)
    {
        verify(&token);
    }
}

fn signed(flags: u8, rest: &[u8]) -> Option<Value> {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let (header, payload): (&[u8], &[u8]) = match (flags >> 1) % 8 {
        0 => (br#"{"alg":"HS256","typ":"JWT"}"#, rest),
        1 => (br#"{"alg":"HS256"}"#, rest),
        2 => (br#"{"alg":"none","typ":"JWT"}"#, rest),
        3 => (br#"{"alg":"HS512","typ":"JWT"}"#, rest),
        4 => (br#"{"alg":"RS256","typ":"JWT"}"#, rest),
        _ => match rest.iter().position(|b| *b == b'\n') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (br#"{"alg":"HS256","typ":"JWT"}"#, rest),
        },
    };
    let message = format!("{}.{}", b64(header), b64(payload));
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
        .expect("HS256 signs anything");
    let token = format!("{message}.{signature}");
    let claims = verify(&token)?;
    {
        let header = jsonwebtoken::decode_header(&token).expect("an accepted token has a header");
        assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256, "accepted {:?}", String::from_utf8_lossy(rest));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        let leeway = LEEWAY as f64 + 2.0;
        let exp = claims.get("exp").and_then(Value::as_f64).expect("an accepted token has a numeric exp");
        assert!(exp + leeway >= now, "accepted a token that expired at {exp}");
        if let Some(nbf) = claims.get("nbf") {
            let nbf = nbf.as_f64().expect("a numeric nbf");
            assert!(nbf <= now + leeway, "accepted a token not valid before {nbf}");
        }
        assert_eq!(claims["iss"], ISSUER);
        let aud = &claims["aud"];
        assert!(
            aud == AUDIENCE || aud.as_array().is_some_and(|a| a.iter().any(|x| x == AUDIENCE)),
            "accepted audience {aud}"
        );
    }
    Some(claims)
}

/// Verifies `token` and checks roles on what it carries; the claims if it is accepted.
fn verify(token: &str) -> Option<Value> {
    let auth = fuzz_auth();
    match auth.verify(token) {
        Ok(claims) => {
            assert!(claims.is_object(), "claims {claims}");
            static ADMINS: Secured = Secured::new(&["admin"], &["write"]);
            let _ = ADMINS.check(&claims);
            let _ = Secured::AUTHENTICATED.check(&claims);
            Some(claims)
        }
        Err(e) => {
            let _ = (e.to_string(), auth.close_code(&e));
            None
        }
    }
}

/// WebSocket frames as a client sends them (`ws::reader`, what every connection's driver
/// runs on its input).
///
/// Byte 0 picks the size limit (64 bytes to 16 KiB) and byte 1 the size of each read (1 to
/// 256 bytes); the rest is the byte stream. The messages read and how reading ends must not
/// depend on how the stream is cut into reads; no message exceeds the limit; a text message
/// is UTF-8 (the type promises it); control payloads are at most 125 bytes; and the bytes
/// held between reads stay within one frame's worth.
pub fn ws_frames(input: &[u8]) {
    let [a, b, stream @ ..] = input else { return };
    let max = 64usize << (a % 9);
    let chunk = usize::from(*b) + 1;
    let cut = read_frames(stream, chunk, max);
    let whole = read_frames(stream, stream.len().max(1), max);
    assert_eq!(cut, whole, "reading in chunks of {chunk} differs from reading at once");
    for m in &cut.0 {
        match m {
            Incoming::Text(t) => assert!(t.len() <= max),
            Incoming::Binary(b) => assert!(b.len() <= max),
            Incoming::Ping(p) => assert!(p.len() <= 125),
            Incoming::Pong | Incoming::Close(_) => {}
        }
    }
}

/// Everything a reader gives from `stream` read `chunk` bytes at a time: the messages and
/// how it ended (`None` at the end of the stream, else the kind of error).
fn read_frames(stream: &[u8], chunk: usize, max: usize) -> (Vec<Incoming>, Option<&'static str>) {
    struct Chunks<'a>(&'a [u8], usize);
    impl tokio::io::AsyncRead for Chunks<'_> {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let n = self.1.min(self.0.len()).min(buf.remaining());
            buf.put_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            std::task::Poll::Ready(Ok(()))
        }
    }
    let mut io = Chunks(stream, chunk);
    let mut reader = Reader::new(&[], max);
    let mut cx = std::task::Context::from_waker(futures_util::task::noop_waker_ref());
    let mut out = Vec::new();
    loop {
        let next = reader.poll_next(&mut cx, &mut io);
        assert!(reader.buffered() <= 3 * (max + 14 + 4096), "{} bytes held", reader.buffered());
        match next {
            std::task::Poll::Ready(Ok(Some(m))) => out.push(m),
            std::task::Poll::Ready(Ok(None)) => return (out, None),
            std::task::Poll::Ready(Err(e)) => {
                let kind = match e {
                    ReadError::TooBig { size, max: limit } => {
                        assert!(size > limit as u64 && limit == max, "{size} refused under {limit}");
                        "too big"
                    }
                    ReadError::Utf8 => "utf-8",
                    ReadError::Protocol(what) => {
                        assert!(what.len() <= MAX_ERROR_BYTES);
                        "protocol"
                    }
                    ReadError::Io(_) => "io",
                };
                return (out, Some(kind));
            }
            std::task::Poll::Pending => unreachable!("the input stream is always ready"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed corpus input (and any crash input added to the corpus) runs in `cargo test`.
    #[test]
    fn the_fuzz_corpus_runs_clean() {
        type Target = fn(&[u8]);
        let targets: [(&str, Target); 5] = [
            ("route_path", route_path),
            ("pubsub_decode", pubsub_decode),
            ("live_filter", live_filter),
            ("jwt_extract", jwt_extract),
            ("ws_frames", ws_frames),
        ];
        for (name, target) in targets {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(name);
            let mut count = 0;
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.unwrap().path();
                let input = std::fs::read(&path).unwrap();
                if std::panic::catch_unwind(|| target(&input)).is_err() {
                    panic!("{} fails", path.display());
                }
                count += 1;
            }
            assert!(count >= 10, "{name}: {count} corpus entries, 10 at least");
        }
    }

    #[test]
    fn the_jwt_target_accepts_a_good_token_and_no_bad_one() {
        let claims = |exp: u64, iss: &str| {
            serde_json::to_vec(&serde_json::json!({"sub": "a", "exp": exp, "iss": iss, "aud": AUDIENCE})).unwrap()
        };
        let good = claims(4_102_444_800, ISSUER);
        assert!(signed(1, &good).is_some(), "HS256 with every claim");
        assert!(signed(5, &good).is_none(), "alg none");
        assert!(signed(7, &good).is_none(), "HS512 header");
        assert!(signed(1, &claims(1, ISSUER)).is_none(), "expired");
        assert!(signed(1, &claims(4_102_444_800, "other")).is_none(), "issuer");
    }
}
