//! Reading a request body whole, within the app's limit (413 beyond it).

use http_body_util::{BodyExt, LengthLimitError, Limited, combinators::BoxBody};
use poem::{Request, RequestBody, http::StatusCode, http::header};

use crate::Error;

/// The body limit when nothing else is configured (1 MiB).
pub(crate) const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The largest body the app reads (`App::body_limit`), in its data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// The body's bytes, refused with 413 when it declares or turns out larger than the app's
/// body limit (outside an App, the default limit).
pub(crate) async fn read_limited(req: &Request, body: &mut RequestBody) -> poem::Result<bytes::Bytes> {
    let limit = crate::route::data::<BodyLimit>(req).map_or(DEFAULT_BODY_LIMIT, |l| l.0);
    let too_large =
        || Error::new(StatusCode::PAYLOAD_TOO_LARGE, format!("request body is larger than the limit of {limit} bytes"));
    let declared = super::header(req, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large().into());
    }
    // Collected as the chunks arrive: a body that came in one chunk is handed on as it is.
    let stream: BoxBody<bytes::Bytes, std::io::Error> = body.take()?.into();
    match Limited::new(stream, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large().into()),
        Err(e) => Err(Error::bad_request(format!("could not read the request body: {e}")).into()),
    }
}
