//! `GET /health` (the process answers) and `GET /ready` (it can do its work: every
//! extension's readiness check passes and it is not shutting down), for load balancers and
//! orchestrators' probes.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use poem::{Request, Response, http::StatusCode};
use serde_json::{Map, Value, json};

use super::App;
use crate::{router::Router, ws::registry::Registry};

type Check = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The extensions' readiness checks, by name (`Start::readiness`), in the app's data.
#[derive(Clone, Default)]
pub(crate) struct Readiness(Vec<(&'static str, Check)>);

/// How long one check may take before it counts as failing.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

impl Readiness {
    pub(crate) fn add<F, Fut>(&mut self, name: &'static str, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.0.push((name, Arc::new(move || Box::pin(check()))));
    }

    /// Every check's outcome, run together.
    async fn run(&self) -> Vec<(&'static str, Result<(), String>)> {
        let runs = self.0.iter().map(|(name, check)| async move {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            (*name, outcome)
        });
        futures_util::future::join_all(runs).await
    }
}

impl App {
    /// Serves `GET /health` and `GET /ready` (`SOCKEYE_HEALTH=on` does the same).
    ///
    /// `/health` is liveness: 200 `{"status": "ok"}` as long as the process answers.
    /// `/ready` is readiness: 200 `{"status": "ready", "checks": {..}}` when every check
    /// passes (the database of live models answers a query, the Hub's broker is connected,
    /// and any check an [`Extension`](crate::Extension) adds with
    /// [`Start::readiness`](crate::Start::readiness)), else 503 `{"status": "unavailable",
    /// "checks": {"database": "failing", ..}}`, with the reason logged as a warning. A
    /// request that still reaches `/ready` once a shutdown has begun (on a connection
    /// already open) gets 503 `"shutting_down"`.
    ///
    /// ```standalone_crate
    /// use sockeye::prelude::*;
    ///
    /// # #[tokio::main] async fn main() {
    /// let client = TestClient::new(App::new().health());
    /// assert_eq!(client.get("/health").send().await.text(), r#"{"status":"ok"}"#);
    /// let ready = client.get("/ready").send().await;
    /// assert_eq!((ready.status(), ready.text()), (StatusCode::OK, r#"{"checks":{},"status":"ready"}"#.to_string()));
    /// # }
    /// ```
    pub fn health(mut self) -> Self {
        self.config.health = true;
        self
    }
}

/// The two routes, mounted when health is on.
pub(crate) fn routes() -> Router {
    Router::new().route("/health", &HEALTH_ROUTE).route("/ready", &READY_ROUTE)
}

/// Liveness: the process answers.
#[crate::get("/health", def = HEALTH_ROUTE)]
async fn health() -> crate::Json<Value> {
    crate::Json(json!({"status": "ok"}))
}

/// Readiness: the database and the broker answer, and the app is not shutting down.
#[crate::get("/ready", def = READY_ROUTE)]
async fn ready(req: &Request) -> Response {
    let shutting_down = crate::route::data::<Arc<Registry>>(req).is_some_and(|r| r.is_shutting_down());
    let outcomes = match crate::route::data::<Readiness>(req) {
        Some(readiness) => readiness.run().await,
        None => Vec::new(),
    };
    let mut checks = Map::new();
    let mut ready = !shutting_down;
    for (name, outcome) in outcomes {
        if let Err(reason) = &outcome {
            tracing::warn!(check = name, reason = %reason, "readiness check failing");
            ready = false;
        }
        checks.insert(name.to_string(), Value::from(if outcome.is_ok() { "ok" } else { "failing" }));
    }
    let status = match (shutting_down, ready) {
        (true, _) => "shutting_down",
        (false, true) => "ready",
        (false, false) => "unavailable",
    };
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({"status": status, "checks": checks});
    Response::builder().status(code).content_type("application/json").body(body.to_string())
}
