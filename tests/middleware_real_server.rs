//! Over real TCP: the user's poem middlewares around HTTP routes and WebSocket handshakes
//! (`App::with`), poem endpoints mounted beside the routes (`App::mount`), gzip and brotli
//! answers (`App::compression`), and the body limit on a `String` body, declared or chunked.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use sockeye::poem::{self, Request, endpoint::make_sync, http::StatusCode, middleware::SetHeader};
use sockeye::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

#[get("/mw/hello")]
async fn hello() -> &'static str {
    "hello"
}

#[post("/mw/echo")]
async fn echo(#[body] body: String) -> String {
    body
}

#[get("/mw/report")]
async fn report() -> String {
    "all quiet on the server tonight. ".repeat(200)
}

#[websocket("/mw/ws")]
async fn ws_echo(ws: WebSocket) -> sockeye::Result<()> {
    let ws = ws.accept().await?;
    while let Some(text) = ws.receive_text().await? {
        ws.send_text(text).await?;
    }
    Ok(())
}

/// Serves `app` on an ephemeral loopback port until the returned sender is dropped.
async fn serve(app: App) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let server = app.bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// One HTTP/1.1 request through hyper's client: the answer's head and its whole body.
async fn send(addr: SocketAddr, req: hyper::Request<Full<Bytes>>) -> (hyper::http::response::Parts, Bytes) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts, body.collect().await.unwrap().to_bytes())
}

fn get(addr: SocketAddr, path: &str) -> hyper::http::request::Builder {
    hyper::Request::get(format!("http://{addr}{path}")).header("host", addr.to_string())
}

/// The app with a header-setting middleware and one that counts what it sees into `seen`
/// (one counter per app: the tests of this file run at once).
fn app_counting(seen: Arc<AtomicUsize>) -> App {
    App::new().with(SetHeader::new().overriding("x-served-by", "sockeye")).around(
        move |req: Request, next: sockeye::Next| {
            seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if req.header("x-block").is_some() {
                    return Err(sockeye::Error::new(StatusCode::FORBIDDEN, "blocked by the middleware").into());
                }
                Ok(next.run(req).await)
            }
        },
    )
}

fn app() -> App {
    app_counting(Arc::default())
}

#[tokio::test]
async fn middlewares_wrap_http_routes_unknown_paths_and_websocket_handshakes_real_server() {
    let seen = Arc::new(AtomicUsize::new(0));
    let (addr, _stop) = serve(app_counting(seen.clone())).await;

    let (head, body) = send(addr, get(addr, "/mw/hello").body(Full::default()).unwrap()).await;
    assert_eq!((head.status.as_u16(), &body[..]), (200, &b"hello"[..]));
    assert_eq!(head.headers["x-served-by"], "sockeye");
    let (head, body) = send(addr, get(addr, "/nowhere").body(Full::default()).unwrap()).await;
    assert_eq!(head.status.as_u16(), 404);
    assert_eq!(head.headers["x-served-by"], "sockeye", "a 404 passes through the middlewares too");
    assert_eq!(&body[..], br#"{"detail":"Not Found"}"#);
    // An error a middleware returns is answered as JSON, like a route's.
    let (head, body) = send(addr, get(addr, "/mw/hello").header("x-block", "1").body(Full::default()).unwrap()).await;
    assert_eq!(head.status.as_u16(), 403);
    assert_eq!(&body[..], br#"{"detail":"blocked by the middleware"}"#);

    // The WebSocket handshake goes through them and the socket then works as usual.
    let (mut ws, resp) = tokio_tungstenite::connect_async(format!("ws://{addr}/mw/ws")).await.unwrap();
    assert_eq!(resp.headers()["x-served-by"], "sockeye");
    ws.send(tungstenite::Message::text("ping")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), tungstenite::Message::text("ping"));
    // ... and a middleware can refuse one before any handler code runs.
    let mut refused = format!("ws://{addr}/mw/ws").into_client_request().unwrap();
    refused.headers_mut().insert("x-block", "1".parse().unwrap());
    match tokio_tungstenite::connect_async(refused).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 403),
        other => panic!("the handshake should be refused: {:?}", other.map(|(_, r)| r.status())),
    }
    assert_eq!(seen.load(Ordering::SeqCst), 5, "every request and handshake was seen once");
}

#[tokio::test]
async fn a_mounted_poem_endpoint_is_served_beside_the_routes_real_server() {
    let legacy = poem::Route::new().at("/version", make_sync(|_| "1.2.3"));
    let (addr, _stop) = serve(app().mount("/legacy", legacy)).await;
    let (head, body) = send(addr, get(addr, "/legacy/version").body(Full::default()).unwrap()).await;
    assert_eq!((head.status.as_u16(), &body[..]), (200, &b"1.2.3"[..]));
    assert_eq!(head.headers["x-served-by"], "sockeye", "the app's middlewares wrap mounted endpoints");
    let (head, _) = send(addr, get(addr, "/legacy/other").body(Full::default()).unwrap()).await;
    assert_eq!(head.status.as_u16(), 404);
    // A mount where a route already is stops the start.
    let clash = App::new().mount("/mw/hello", make_sync(|_| "x"));
    let err = clash.bind("127.0.0.1:0").await.err().expect("the mount clashes with a route");
    assert!(err.to_string().contains("cannot mount an endpoint at `/mw/hello`"), "{err}");
}

#[tokio::test]
async fn gzip_and_brotli_are_negotiated_and_small_or_head_answers_are_left_alone_real_server() {
    use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder};
    let (addr, _stop) = serve(App::new().compression()).await;
    let expected = "all quiet on the server tonight. ".repeat(200);

    let ask = |coding: &str| get(addr, "/mw/report").header("accept-encoding", coding).body(Full::default()).unwrap();
    let (head, body) = send(addr, ask("gzip")).await;
    assert_eq!(head.headers["content-encoding"], "gzip");
    assert_eq!(head.headers["vary"], "Accept-Encoding");
    assert!(body.len() < expected.len() / 10, "compressed: {} bytes", body.len());
    let mut text = String::new();
    GzipDecoder::new(&body[..]).read_to_string(&mut text).await.unwrap();
    assert_eq!(text, expected);

    let (head, body) = send(addr, ask("gzip;q=0.5, br")).await;
    assert_eq!(head.headers["content-encoding"], "br");
    let mut text = String::new();
    BrotliDecoder::new(&body[..]).read_to_string(&mut text).await.unwrap();
    assert_eq!(text, expected);

    // Not asked, a coding we do not speak, a body under 1 KiB: as is.
    for (path, coding) in [("/mw/report", None), ("/mw/report", Some("zstd")), ("/mw/hello", Some("gzip, br"))] {
        let mut req = get(addr, path);
        if let Some(coding) = coding {
            req = req.header("accept-encoding", coding);
        }
        let (head, _) = send(addr, req.body(Full::default()).unwrap()).await;
        assert!(head.headers.get("content-encoding").is_none(), "{path} {coding:?}");
    }
}

#[tokio::test]
async fn the_body_limit_holds_for_a_string_body_declared_or_chunked_real_server() {
    let (addr, _stop) = serve(app().body_limit(64)).await;
    let post = |body: &str| {
        hyper::Request::post(format!("http://{addr}/mw/echo"))
            .header("host", addr.to_string())
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    let (head, body) = send(addr, post("short")).await;
    assert_eq!((head.status.as_u16(), &body[..]), (200, &b"short"[..]));
    let (head, body) = send(addr, post(&"x".repeat(65))).await;
    assert_eq!(head.status.as_u16(), 413);
    assert_eq!(&body[..], br#"{"detail":"request body is larger than the limit of 64 bytes"}"#);

    // Chunked, no length declared: counted as it is read.
    for (chunks, status) in [(vec!["a".repeat(30), "b".repeat(30)], 200), (vec!["a".repeat(40), "b".repeat(40)], 413)] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut request = format!(
            "POST /mw/echo HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        for chunk in &chunks {
            request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        request.push_str("0\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
        if status == 200 {
            assert!(answer.ends_with(&chunks.concat()), "{answer}");
        } else {
            assert!(answer.contains("larger than the limit of 64 bytes"), "{answer}");
        }
    }
}

/// Behind a middleware the body the routes read may not be the one the client sent (a
/// decompressing middleware inflates it under the declared length): it is counted anyway.
/// And a middleware that reads the body itself reads it within the limit.
#[tokio::test]
async fn the_body_limit_holds_behind_a_middleware_that_replaces_or_reads_the_body_real_server() {
    let inflating = App::new().body_limit(64).around(|mut req: Request, next: sockeye::Next| async move {
        if req.header("x-inflate").is_some() {
            // What a decompressing middleware does: a larger body, the header left as sent.
            req.set_body("z".repeat(10_000));
        }
        if req.header("x-read-here").is_some() {
            let read = req.take_body().into_bytes().await;
            return Ok(poem::Response::builder().body(format!("read: {}", read.map(|b| b.len()).unwrap_or(0))));
        }
        Ok(next.run(req).await)
    });
    let (addr, _stop) = serve(inflating).await;
    let post = |body: &str, header: &str| {
        hyper::Request::post(format!("http://{addr}/mw/echo"))
            .header("host", addr.to_string())
            .header(header, "1")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    let (head, _) = send(addr, post("small", "x-inflate")).await;
    assert_eq!(head.status.as_u16(), 413, "the inflated body is over the limit");
    let (head, body) = send(addr, post("small", "x-plain")).await;
    assert_eq!((head.status.as_u16(), &body[..]), (200, &b"small"[..]));
    // Chunked and over the limit, read by the middleware: it gets an error, the client 413.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let chunk = "y".repeat(100);
    let request = format!(
        "POST /mw/echo HTTP/1.1\r\nHost: {addr}\r\nX-Read-Here: 1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
}

#[tokio::test]
async fn middlewares_and_mounts_read_the_request_id_and_the_route_pattern_real_server() {
    // What a middleware saw: the request's id, its route pattern, and the answer's pattern.
    let seen: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = App::new().around(move |req: Request, next: sockeye::Next| {
        let log = log.clone();
        async move {
            let id = req.data::<sockeye::RequestId>().map(|id| id.to_string());
            let before = req.data::<poem::PathPattern>().map(|p| p.0.to_string());
            let resp = next.run(req).await;
            let after = resp.data::<poem::PathPattern>().map(|p| p.0.to_string());
            log.lock().unwrap().push(format!("{id:?} {before:?} {after:?}"));
            Ok(resp)
        }
    });
    let legacy = poem::Route::new().at(
        "/id",
        poem::endpoint::make_sync(|req: Request| {
            req.data::<sockeye::RequestId>().map_or("none".into(), |id| id.to_string())
        }),
    );
    let (addr, _stop) = serve(app.mount("/café", legacy)).await;
    let (head, _) =
        send(addr, get(addr, "/mw/hello").header("x-request-id", "abc").body(Full::default()).unwrap()).await;
    assert_eq!(head.status.as_u16(), 200);
    // The handler's pattern is put on the request before the routes run (the middleware is
    // outside them), and on the answer it gets back.
    assert_eq!(seen.lock().unwrap().as_slice(), [r#"Some("abc") None Some("/mw/hello")"#]);
    seen.lock().unwrap().clear();
    // A mounted endpoint is reached at its prefix as clients spell it, and reads the id too.
    let (head, body) =
        send(addr, get(addr, "/caf%C3%A9/id").header("x-request-id", "xyz").body(Full::default()).unwrap()).await;
    assert_eq!((head.status.as_u16(), &body[..]), (200, &b"xyz"[..]));
}
