//! An argument that is neither marked nor a path parameter is read by what its type is: an
//! extractor (`Json<T>`, `State<T>`, `&Request`, any poem `FromRequest`) is extracted, a type
//! that parses from text (`u32`, `bool`, `Uuid`, anything `FromStr`) is a query parameter of
//! the argument's name, and anything else is a compile error at the argument. (A bare
//! `String` never reaches here: the route macros make it a query parameter by its name, so the
//! body is only read by a body type.)
//!
//! The choice is made by method resolution on [`ArgProbe`] ("autoref specialization"): the
//! generated code calls `(&&&ArgProbe::<T>::new()).arg(..)`, and the impl found first wins:
//! [`ByExtractor`] on `&&ArgProbe<T>`, then [`ByParam`] on `&ArgProbe<T>`, then [`Neither`].

use std::{future::Future, marker::PhantomData, pin::Pin};

use poem::{Request, RequestBody, Response};

use super::{
    extract,
    param::{FromParam, query_param, query_param_opt},
};

/// An argument as the generated code gets it: a parameter is there at once (no allocation, no
/// suspension point), an extractor's future is boxed (see [`extract`]) and awaited.
pub enum ArgValue<'b, T> {
    /// Read already.
    Ready(Result<T, Response>),
    /// To await.
    Pending(Pin<Box<dyn Future<Output = Result<T, Response>> + Send + 'b>>),
}

/// Stands for an argument's type while the generated code picks how to read it.
pub struct ArgProbe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> ArgProbe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for ArgProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The argument is an extractor.
pub trait ByExtractor<'a, T> {
    /// Extracts it.
    fn arg<'b>(&self, req: &'a Request, body: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, T>
    where
        'a: 'b;
    /// Extracts `Option<T>` (poem's rule: `None` when `T` fails).
    fn arg_opt<'b>(&self, req: &'a Request, body: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, Option<T>>
    where
        'a: 'b;
    /// For the docs: not a query parameter.
    fn is_query(&self) -> bool {
        false
    }
}

impl<'a, T: poem::FromRequest<'a> + Send> ByExtractor<'a, T> for &&ArgProbe<T> {
    fn arg<'b>(&self, req: &'a Request, body: &'b mut RequestBody, _: &'static str) -> ArgValue<'b, T>
    where
        'a: 'b,
    {
        ArgValue::Pending(extract::<T>(req, body))
    }

    fn arg_opt<'b>(&self, req: &'a Request, body: &'b mut RequestBody, _: &'static str) -> ArgValue<'b, Option<T>>
    where
        'a: 'b,
    {
        ArgValue::Pending(extract::<Option<T>>(req, body))
    }
}

/// The argument is a query parameter of its name.
pub trait ByParam<'a, T> {
    /// Reads the required parameter.
    fn arg<'b>(&self, req: &'a Request, body: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, T>
    where
        'a: 'b;
    /// Reads the optional parameter.
    fn arg_opt<'b>(&self, req: &'a Request, body: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, Option<T>>
    where
        'a: 'b;
    /// For the docs: a query parameter.
    fn is_query(&self) -> bool {
        true
    }
}

impl<'a, T: FromParam + Send + 'static> ByParam<'a, T> for &ArgProbe<T> {
    fn arg<'b>(&self, req: &'a Request, _: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, T>
    where
        'a: 'b,
    {
        ArgValue::Ready(query_param::<T>(req, name))
    }

    fn arg_opt<'b>(&self, req: &'a Request, _: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, Option<T>>
    where
        'a: 'b,
    {
        ArgValue::Ready(query_param_opt::<T>(req, name))
    }
}

/// Implemented by no type: its message is the compile error for an argument that is not a
/// path parameter, not a query parameter and not an extractor.
#[diagnostic::on_unimplemented(
    message = "this argument is not a path parameter, a query parameter or an extractor",
    label = "`{Self}` neither parses from text (`FromStr`) nor is an extractor",
    note = "a path parameter needs a `<name>` segment in the route path with the argument's name",
    note = "a query parameter is a type that parses from text: `String`, numbers, `bool`, `Uuid`, any `FromStr` type, in `Option<_>` or `Vec<_>`; `#[query(\"name\")]` renames it",
    note = "a body is `Json<T>`, `Form<T>`, `Bytes` or a `#[body]` argument; other extractors are `Query<T>`, `State<T>`, `WebSocket`, `Hub`, `Claims`, `Auth`, `&Request`, `&HeaderMap`, `#[header] name: T`, or any `poem::FromRequest`"
)]
pub trait Argument: Send + 'static {}

/// Neither: calling it is the compile error above.
pub trait Neither<'a, T> {
    /// Never callable: `T: Argument` holds for no type.
    fn arg<'b>(&self, req: &'a Request, body: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, T>
    where
        'a: 'b,
        T: Argument;
    /// Never callable either.
    fn arg_opt<'b>(&self, req: &'a Request, body: &'b mut RequestBody, name: &'static str) -> ArgValue<'b, Option<T>>
    where
        'a: 'b,
        T: Argument;
    /// For the docs (the error is reported by `arg`).
    fn is_query(&self) -> bool {
        false
    }
}

impl<'a, T> Neither<'a, T> for ArgProbe<T> {
    fn arg<'b>(&self, _: &'a Request, _: &'b mut RequestBody, _: &'static str) -> ArgValue<'b, T>
    where
        'a: 'b,
        T: Argument,
    {
        ArgValue::Pending(Box::pin(std::future::pending()))
    }

    fn arg_opt<'b>(&self, _: &'a Request, _: &'b mut RequestBody, _: &'static str) -> ArgValue<'b, Option<T>>
    where
        'a: 'b,
        T: Argument,
    {
        ArgValue::Pending(Box::pin(std::future::pending()))
    }
}
