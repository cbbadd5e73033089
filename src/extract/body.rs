//! Reading a request body whole, within the app's limit (413 beyond it).

use poem::{Request, RequestBody, error::ReadBodyError, http::StatusCode, http::header};

use crate::{Error, app::endpoint::Shared};

/// The body's bytes, refused with 413 when it declares or turns out larger than the app's
/// body limit (outside an App, the default limit).
pub(crate) async fn read_limited(req: &Request, body: &mut RequestBody) -> poem::Result<bytes::Bytes> {
    let limit = Shared::of(req).map_or(crate::app::DEFAULT_BODY_LIMIT, |s| s.body_limit);
    let too_large =
        || Error::new(StatusCode::PAYLOAD_TOO_LARGE, format!("request body is larger than the limit of {limit} bytes"));
    let declared = req.header(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large().into());
    }
    match body.take()?.into_bytes_limit(limit).await {
        Ok(b) => Ok(b),
        Err(ReadBodyError::PayloadTooLarge) => Err(too_large().into()),
        Err(e) => Err(Error::bad_request(format!("could not read the request body: {e}")).into()),
    }
}
