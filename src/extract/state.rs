use poem::{FromRequest, Request, RequestBody};

use crate::Error;

/// Application state registered with [`App::state`](crate::App::state), cloned per request.
///
/// Put shared things (a pool, a client, an `Arc<Mutex<..>>`) in state; the value is cloned for
/// each request, so keep it cheap to clone.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
/// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
///
/// #[derive(Clone, Default)]
/// struct Hits(Arc<AtomicU64>);
///
/// #[get("/hits")]
/// async fn hits(State(hits): State<Hits>) -> String {
///     (hits.0.fetch_add(1, Ordering::Relaxed) + 1).to_string()
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new().state(Hits::default()));
/// client.get("/hits").send().await;
/// assert_eq!(client.get("/hits").send().await.text(), "2");
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<'a, T: Clone + Send + Sync + 'static> FromRequest<'a> for State<T> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let value = crate::route::data::<T>(req);
        match value {
            Some(v) => Ok(State(v.clone())),
            None => Err(Error::internal(format!(
                "no state of type `{}` was registered: call App::state(value) with it",
                std::any::type_name::<T>()
            ))
            .into()),
        }
    }
}

impl<T> std::ops::Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
