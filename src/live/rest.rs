//! The REST routes of a model: `GET`/`POST /<table>`, `GET`/`PUT`/`PATCH`/`DELETE
//! /<table>/{id}`, and its channel `/ws/<table>`. Generic handlers the derive points
//! its route table at.

use poem::{Request, Response, http::StatusCode};
use serde_json::{Map, Value};

use super::{
    Live, Model,
    access::Viewer,
    app::LiveData,
    channel,
    error::LiveError,
    query::ListQuery,
    service::{Key, from_json},
    sql,
};
use crate::{
    Error, Hub, Json,
    auth::Principal,
    error::json_response,
    extract::{
        extract,
        param::{invalid, path_param},
    },
    route::HandlerFuture,
    ws::{
        WebSocket, WsRouteOptions,
        route::{WsOutcome, WsRunFuture, websocket, ws_outcome},
    },
};

/// The header a REST write names the client's socket with, so that the client does not get
/// the event of its own change (the write excludes the connection that made it).
pub const CLIENT_ID_HEADER: &str = "x-client-id";

/// Default and largest page of `GET /<table>`.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest `limit` accepted.
pub const MAX_LIMIT: i64 = 1000;

fn respond(result: Result<Response, LiveError>) -> Response {
    result.unwrap_or_else(|e| poem::IntoResponse::into_response(e.to_error()))
}

/// The model as this request sees it: through the row rule of its access, with the claims
/// the route's guard verified.
async fn live<M: Model>(req: &Request) -> Result<Live<M>, Response> {
    let mut body = poem::RequestBody::default();
    let live = extract::<Live<M>>(req, &mut body).await?;
    let access = LiveData::of(req).and_then(|s| s.access(M::schema().table));
    let claims = req.extensions().get::<Principal>().map(|p| &p.claims);
    let live = live.viewing(Viewer::of(access, claims));
    Ok(match req.header(CLIENT_ID_HEADER) {
        Some(id) if !id.is_empty() => live.except_owned(id, owners(req)),
        _ => live,
    })
}

/// Who sent the request, the way connections are owned (`ws::conn::Conn::owner`): its
/// token's subject and its client address. A connection opened with a token is the
/// request's only if the subjects match; one opened without, if the addresses do.
fn owners(req: &Request) -> Vec<String> {
    let subject = req.extensions().get::<Principal>().and_then(Principal::subject).map(|s| format!("sub:{s}"));
    let address = crate::extract::client::client_ip(req).map(|ip| format!("ip:{ip}"));
    subject.into_iter().chain(address).collect()
}

fn key<M: Model>(req: &Request) -> Result<Key, Response> {
    let raw: String = path_param(req, 0, "id")?;
    Key::parse(M::schema(), &raw).map_err(|expected| invalid("path", "id", &raw, format!("expected {expected}")))
}

fn invalid_query(name: &str, msg: String) -> Response {
    poem::IntoResponse::into_response(Error::validation(vec![crate::ValidationError::new(
        "value_error",
        vec!["query".into(), name.into()],
        msg,
    )]))
}

macro_rules! try_resp {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(resp) => return resp,
        }
    };
}

/// `GET /<table>?<conditions>&order=&limit=&offset=|cursor=&count=exact`: the rows, a JSON
/// array; a full page links to the next (`Link: <..&cursor=..>; rel="next"`), `count=exact`
/// adds `X-Total-Count`.
pub fn list<M: Model>(req: Request) -> HandlerFuture {
    Box::pin(async move {
        let live = try_resp!(live::<M>(&req).await);
        let raw = req.uri().query().unwrap_or("");
        let query = match ListQuery::parse(M::schema(), raw) {
            Ok(q) => q,
            Err((name, msg)) => return invalid_query(&name, msg),
        };
        respond(
            async {
                let select = sql::Select {
                    filter: &query.filter,
                    order: &query.order,
                    after: query.after.as_deref(),
                    limit: Some(query.limit),
                    offset: query.offset,
                };
                let (rows, last) = live.page_json(&select).await?;
                let total = if query.count { Some(live.count(&query.filter).await?) } else { None };
                let mut resp = json_response(StatusCode::OK, &rows);
                let headers = resp.headers_mut();
                if let Some(last) = last {
                    let next = format!(
                        "<{}?{}>; rel=\"next\"",
                        req.uri().path(),
                        ListQuery::next(raw, &query.order.cursor(&last))
                    );
                    if let Ok(v) = poem::http::HeaderValue::from_str(&next) {
                        headers.insert(poem::http::header::LINK, v);
                    }
                }
                if let Some(total) = total {
                    headers.insert("x-total-count", total.into());
                }
                Ok(resp)
            }
            .await,
        )
    })
}

/// `POST /<table>`: 201 with the row as stored.
pub fn create<M: Model>(req: Request) -> HandlerFuture {
    Box::pin(async move {
        let (req, mut body) = req.split();
        let Json(mut object) = try_resp!(extract::<Json<Map<String, Value>>>(&req, &mut body).await);
        let live = try_resp!(live::<M>(&req).await);
        respond(
            async {
                let key = M::schema().key();
                if key.kind == super::model::Kind::Integer {
                    // Always generated through REST: a client-chosen key (say the largest
                    // integer) could exhaust the table's key space for everyone after it.
                    // 0 stands in for the model's key field during the check.
                    object.insert(key.name.to_string(), 0.into());
                }
                super::service::check_kinds(M::schema(), &object)?;
                super::service::fill_on_create(M::schema(), &mut object);
                let checked = super::service::to_row(&from_json::<M>(Value::Object(object))?)?;
                let row = live.create_json(checked).await?;
                Ok(json_response(StatusCode::CREATED, &M::schema().public(&row)))
            }
            .await,
        )
    })
}

/// `GET /<table>/{id}`.
pub fn read<M: Model>(req: Request) -> HandlerFuture {
    Box::pin(async move {
        let live = try_resp!(live::<M>(&req).await);
        let id = try_resp!(key::<M>(&req));
        respond(
            async {
                let row = live.get_json(&id).await?;
                Ok(json_response(StatusCode::OK, &row))
            }
            .await,
        )
    })
}

/// `PUT /<table>/{id}` (whole row) and `PATCH` (the fields given).
fn write<M: Model>(req: Request, partial: bool) -> HandlerFuture {
    Box::pin(async move {
        let (req, mut body) = req.split();
        let Json(object) = try_resp!(extract::<Json<Map<String, Value>>>(&req, &mut body).await);
        let live = try_resp!(live::<M>(&req).await);
        let id = try_resp!(key::<M>(&req));
        respond(
            async {
                let row = live.update_json(&id, object, partial).await?;
                Ok(json_response(StatusCode::OK, &M::schema().public(&row)))
            }
            .await,
        )
    })
}

/// `PUT /<table>/{id}`.
pub fn replace<M: Model>(req: Request) -> HandlerFuture {
    write::<M>(req, false)
}

/// `PATCH /<table>/{id}`.
pub fn patch<M: Model>(req: Request) -> HandlerFuture {
    write::<M>(req, true)
}

/// `DELETE /<table>/{id}`: 204.
pub fn delete<M: Model>(req: Request) -> HandlerFuture {
    Box::pin(async move {
        let live = try_resp!(live::<M>(&req).await);
        let id = try_resp!(key::<M>(&req));
        respond(
            async {
                live.delete(id).await?;
                Ok(StatusCode::NO_CONTENT.into())
            }
            .await,
        )
    })
}

fn run<M: Model>(request: Request) -> WsRunFuture {
    Box::pin(async move {
        let (req, mut body) = request.split();
        let ws = match extract::<WebSocket>(&req, &mut body).await {
            Ok(ws) => ws,
            Err(resp) => return WsOutcome::from(resp),
        };
        let table = M::schema().table;
        let live_data = LiveData::of(&req);
        let access = live_data.and_then(|s| s.access(table)).cloned();
        let greet = live_data.is_none_or(|s| s.greets(table));
        // Rows in the app's database (`App::register`), or stored by the app (`App::channel`).
        let stored = live_data.is_some_and(|s| s.stored.iter().any(|m| m.table == table));
        let (hub, channel, db) = if stored {
            let live = match live::<M>(&req).await {
                Ok(l) => l,
                Err(resp) => return WsOutcome::from(resp),
            };
            (live.hub().clone(), live.channel().clone(), Some(live.database().clone()))
        } else {
            let hub = match extract::<Hub>(&req, &mut body).await {
                Ok(hub) => hub,
                Err(resp) => return WsOutcome::from(resp),
            };
            let channel = super::events::channel(&hub, M::schema());
            (hub, channel, None)
        };
        let claims = ws.claims().cloned();
        let since = form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "since")
            .map(|(_, v)| v.parse::<u64>());
        let since = match since {
            Some(Err(_)) => {
                return WsOutcome::from(invalid_query(
                    "since",
                    "since must be a position: the `position` of the last event received".into(),
                ));
            }
            Some(Ok(p)) => Some(p),
            None => None,
        };
        // The request's header values are slices of hyper's read buffer: kept in this future
        // for the socket's lifetime they would keep that buffer (17 KB per idle socket).
        drop((req, body));
        ws_outcome(channel::serve(ws, hub, channel, db, (access, greet, since), claims).await)
    })
}

static WS_OPTIONS: WsRouteOptions = WsRouteOptions { client_id: true, ..WsRouteOptions::NONE };

/// `/ws/<table>`.
pub fn socket<M: Model>(req: Request) -> HandlerFuture {
    websocket(req, &WS_OPTIONS, run::<M>)
}
