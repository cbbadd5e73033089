//! Parses and validates a route attribute and its function into a [`Route`]. Every user
//! mistake is reported here, with a span on the offending token and a way to fix it.

use proc_macro2::{Span, TokenStream};
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, ImplItem, ImplItemFn, Item, ItemFn, ItemImpl, Lit, LitStr, Meta,
    Pat, PathArguments, Signature, Token, Type, parse::Parser, punctuated::Punctuated, spanned::Spanned,
};

use crate::{
    constraints::{Constraints, constraint},
    path,
};

/// A validated route: everything codegen needs, nothing it has to check.
pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) path: LitStr,
    pub(crate) kind: Kind,
    pub(crate) target: Target,
    /// The arguments of the function (for a consumer, of `connect`), in order.
    pub(crate) args: Vec<Arg>,
    pub(crate) doc: String,
    /// `#[secured(roles = [..], scopes = [..])]`, when present.
    pub(crate) secured: Option<Secured>,
    /// `def = NAME`: the registration is the static `NAME` (with the item's visibility),
    /// mounted where a router routes it, instead of being collected for `App::new`.
    pub(crate) def: Option<syn::Ident>,
}

/// What `#[secured]` requires.
#[derive(Default)]
pub(crate) struct Secured {
    pub(crate) roles: Vec<LitStr>,
    pub(crate) scopes: Vec<LitStr>,
}

/// Whether `attr` is `#[secured]` (also `#[sockeye::secured]`).
pub(crate) fn is_secured(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "secured")
}

/// Removes the `#[secured]` attributes of an item and reads them.
fn take_secured(attrs: &mut Vec<syn::Attribute>) -> syn::Result<Option<Secured>> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| is_secured(a)) {
        if found.is_some() {
            return Err(error(attr, "#[secured] given twice"));
        }
        let mut secured = Secured::default();
        if let syn::Meta::List(_) = &attr.meta {
            attr.parse_nested_meta(|meta| {
                let list = if meta.path.is_ident("roles") {
                    &mut secured.roles
                } else if meta.path.is_ident("scopes") {
                    &mut secured.scopes
                } else {
                    return Err(meta.error("#[secured] takes roles = [\"..\"] and scopes = [\"..\"]"));
                };
                let value: syn::ExprArray = meta.value()?.parse()?;
                for e in value.elems {
                    match e {
                        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => list.push(s),
                        other => return Err(error(other, "roles and scopes are string literals")),
                    }
                }
                Ok(())
            })?;
        }
        found = Some(secured);
    }
    attrs.retain(|a| !is_secured(a));
    Ok(found)
}

pub(crate) enum Kind {
    Http,
    WebSocket(WsOptions),
}

/// `#[websocket(..)]` options; `None` keeps the app's setting.
#[derive(Default)]
pub(crate) struct WsOptions {
    pub(crate) max_message_size: Option<u64>,
    pub(crate) ping_interval: Option<u64>,
    pub(crate) pong_timeout: Option<u64>,
    pub(crate) idle_timeout: Option<u64>,
    pub(crate) max_queue: Option<u64>,
    /// `invalid_message = "reply" | "close"`: true for close.
    pub(crate) close_on_invalid: Option<bool>,
    /// `rate_limit = 100`: messages per second (0 = off).
    pub(crate) rate_limit: Option<u64>,
    /// `client_id = true`: `?client_id=` labels the connection.
    pub(crate) client_id: bool,
}

pub(crate) enum Target {
    /// A handler function.
    Fn(ItemFn),
    /// A type with `connect`, `receive` and optionally `disconnect` (WebSocket only).
    /// `connect_on_self`: `connect(&mut self, ..)` on a `Default` value, rather than
    /// `connect(..)` making the value. `socket`: the type `receive` takes a reference to;
    /// `connected`: where `connect` says what it returns.
    Consumer { item: ItemImpl, socket: Type, has_disconnect: bool, connect_on_self: bool, connected: Span },
}

impl Target {
    /// The function whose name and location identify the route.
    pub(crate) fn ident(&self) -> String {
        match self {
            Target::Fn(f) => f.sig.ident.to_string(),
            Target::Consumer { item, .. } => {
                let ty = &item.self_ty;
                quote::quote!(#ty).to_string().replace(' ', "")
            }
        }
    }
}

pub(crate) struct Arg {
    pub(crate) kind: ArgKind,
    /// The type the helper parses: for an optional or list argument, the type inside
    /// `Option` / `Vec`.
    pub(crate) ty: Type,
    /// The argument's whole type, as written.
    pub(crate) full_ty: Type,
    /// Where a diagnostic about the argument as a whole points: its name.
    pub(crate) span: Span,
    /// `#[query(le = 100)]` and the like.
    pub(crate) constraints: Option<Constraints>,
}

pub(crate) enum ArgKind {
    /// `tail`: a `<name..>` parameter (the rest of the path).
    Path {
        index: usize,
        name: String,
        tail: bool,
    },
    /// `optional`: `Option<T>`; `list`: `Vec<T>`, the parameter repeated.
    Query {
        name: String,
        optional: bool,
        list: bool,
    },
    Header {
        name: String,
        optional: bool,
    },
    /// An extractor: `Json<T>`, `State<T>`, `&Request`, or marked `#[body]`.
    Extract,
    /// Not marked and not a path parameter: an extractor if the type is one, else a query
    /// parameter if it parses from text, else a compile error (decided by the type checker).
    Auto {
        name: String,
        optional: bool,
    },
}

fn error(span: impl Spanned, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span.span(), msg)
}

/// Attribute arguments: the path literal, then `key = value` options.
struct AttrArgs {
    path: LitStr,
    options: Vec<(syn::Ident, Expr)>,
}

fn parse_attr(attr: TokenStream) -> syn::Result<AttrArgs> {
    let items = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(attr)?;
    let mut iter = items.into_iter();
    let path = match iter.next() {
        Some(Expr::Lit(ExprLit { lit: Lit::Str(s), .. })) => s,
        Some(other) => return Err(error(other, "expected the route path as a string literal, like \"/items/<id>\"")),
        None => return Err(error(Span::call_site(), "missing route path: write #[get(\"/items/<id>\")]")),
    };
    let mut options = Vec::new();
    for item in iter {
        let Expr::Assign(assign) = &item else {
            return Err(error(item, "expected an option like `key = value`"));
        };
        let Expr::Path(key) = &*assign.left else { return Err(error(&assign.left, "expected an option name")) };
        let Some(ident) = key.path.get_ident() else { return Err(error(key, "expected an option name")) };
        options.push((ident.clone(), (*assign.right).clone()));
    }
    Ok(AttrArgs { path, options })
}

fn check_method(lit: &LitStr) -> syn::Result<String> {
    let m = lit.value();
    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(error(lit, "a method is written in capitals, like \"OPTIONS\" or \"PROPFIND\""));
    }
    Ok(m)
}

fn int_option(key: &syn::Ident, value: &Expr) -> syn::Result<u64> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse(),
        other => Err(error(other, format!("`{key}` takes a whole number"))),
    }
}

/// Which route attribute is being expanded.
#[derive(Clone, Copy)]
pub(crate) enum Attr {
    /// `#[get]`, `#[post]`, ...: the method is fixed.
    Method(&'static str),
    /// `#[route("/p", method = "X")]`.
    Any,
    /// `#[websocket("/p", ..)]`.
    WebSocket,
}

pub(crate) fn route(attr_kind: Attr, attr: TokenStream, item: TokenStream) -> syn::Result<Route> {
    let args = parse_attr(attr)?;
    let mut method = None;
    let mut ws = WsOptions::default();
    let mut def = None;
    for (key, value) in &args.options {
        match (attr_kind, key.to_string().as_str()) {
            (_, "def") => match value {
                Expr::Path(p) if p.path.get_ident().is_some() => def = p.path.get_ident().cloned(),
                other => {
                    return Err(error(other, "`def` takes the name of the static to define, like `def = STATS_ROUTE`"));
                }
            },
            (Attr::Any, "method") => match value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => method = Some(check_method(s)?),
                other => return Err(error(other, "`method` takes a string literal")),
            },
            (Attr::WebSocket, "max_message_size") => ws.max_message_size = Some(int_option(key, value)?),
            (Attr::WebSocket, "ping_interval") => ws.ping_interval = Some(int_option(key, value)?),
            (Attr::WebSocket, "pong_timeout") => ws.pong_timeout = Some(int_option(key, value)?),
            (Attr::WebSocket, "idle_timeout") => ws.idle_timeout = Some(int_option(key, value)?),
            (Attr::WebSocket, "max_queue") => ws.max_queue = Some(int_option(key, value)?),
            (Attr::WebSocket, "rate_limit") => {
                let n = int_option(key, value)?;
                if n > u64::from(u32::MAX) {
                    return Err(error(value, "`rate_limit` is messages per second, at most 4294967295 (0 = off)"));
                }
                ws.rate_limit = Some(n)
            }
            (Attr::WebSocket, "client_id") => match value {
                Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => ws.client_id = b.value,
                other => return Err(error(other, "`client_id` is true or false")),
            },
            (Attr::WebSocket, "invalid_message") => match value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if s.value() == "reply" || s.value() == "close" => {
                    ws.close_on_invalid = Some(s.value() == "close")
                }
                other => return Err(error(other, "`invalid_message` is \"reply\" or \"close\"")),
            },
            (Attr::WebSocket, _) => {
                return Err(error(
                    key,
                    "unknown option: #[websocket] takes max_message_size, ping_interval, pong_timeout, idle_timeout, max_queue, invalid_message, rate_limit, client_id and def",
                ));
            }
            (Attr::Any, _) => return Err(error(key, "unknown route option: #[route] takes method and def")),
            _ => return Err(error(key, "unknown route option: only `def = NAME` is taken here")),
        }
    }
    let (method, kind) = match attr_kind {
        Attr::Method(m) => (m.to_string(), Kind::Http),
        Attr::WebSocket => ("GET".to_string(), Kind::WebSocket(ws)),
        Attr::Any => match method {
            Some(m) => (m, Kind::Http),
            None => {
                return Err(error(&args.path, "#[route] needs a method: #[route(\"/path\", method = \"OPTIONS\")]"));
            }
        },
    };
    let path_value = args.path.value();
    let segments = path::parse(&path_value).map_err(|e| error(&args.path, e.message))?;
    let params = path::params(&segments);
    let tail = match segments.last() {
        Some(path::Segment::Rest(name)) => Some(*name),
        _ => None,
    };
    let item: Item = syn::parse2(item)?;
    let secured;
    let (target, args_of, doc) = match item {
        Item::Fn(mut func) => {
            secured = take_secured(&mut func.attrs)?;
            check_signature(&func.sig)?;
            let fn_args = classify_args(&func.sig, &params, tail, &args.path)?;
            strip_param_attrs(&mut func.sig);
            let doc = doc_string(&func.attrs);
            (Target::Fn(func), fn_args, doc)
        }
        Item::Impl(mut imp) if matches!(kind, Kind::WebSocket(_)) => {
            secured = take_secured(&mut imp.attrs)?;
            let doc = doc_string(&imp.attrs);
            let (fn_args, socket, has_disconnect, connect_on_self, connected) =
                consumer(&mut imp, &params, tail, &args.path)?;
            (Target::Consumer { item: imp, socket, has_disconnect, connect_on_self, connected }, fn_args, doc)
        }
        other => {
            return Err(error(
                other,
                "route attributes go on an `async fn` (or, for #[websocket], on an `impl` block with `connect` and `receive`)",
            ));
        }
    };
    Ok(Route { method, path: args.path, kind, target, args: args_of, doc, secured, def })
}

fn method_named<'a>(imp: &'a mut ItemImpl, name: &str) -> Option<&'a mut ImplItemFn> {
    imp.items.iter_mut().find_map(|i| match i {
        ImplItem::Fn(f) if f.sig.ident == name => Some(f),
        _ => None,
    })
}

/// Checks a consumer impl: `connect` (arguments like a handler's, after an optional
/// `&mut self`), `receive` and an optional `disconnect` (both `&mut self`, then the socket by
/// reference). Gives the socket type `receive` takes.
fn consumer(
    imp: &mut ItemImpl,
    params: &[&str],
    tail: Option<&str>,
    path: &LitStr,
) -> syn::Result<(Vec<Arg>, Type, bool, bool, Span)> {
    let span = imp.self_ty.span();
    if !imp.generics.params.is_empty() {
        return Err(error(&imp.generics, "a WebSocket consumer cannot be generic: one route, one concrete type"));
    }
    if imp.trait_.is_some() {
        return Err(error(span, "#[websocket] goes on the type's own `impl` block, not on a trait impl"));
    }
    for name in ["receive", "disconnect"] {
        if let Some(f) = method_named(imp, name) {
            if f.sig.asyncness.is_none() {
                return Err(error(f.sig.fn_token, format!("`{name}` must be an `async fn`")));
            }
            if !matches!(f.sig.inputs.first(), Some(FnArg::Receiver(r)) if r.mutability.is_some() && r.reference.is_some())
            {
                return Err(error(&f.sig, format!("`{name}` takes `&mut self` first")));
            }
        }
    }
    let Some(receive) = method_named(imp, "receive") else {
        return Err(error(span, "a WebSocket consumer needs `async fn receive(&mut self, ws: &Socket, msg: Message)`"));
    };
    let socket = match (receive.sig.inputs.len(), receive.sig.inputs.iter().nth(1)) {
        (3, Some(FnArg::Typed(t))) => match &*t.ty {
            Type::Reference(r) if r.mutability.is_none() => (*r.elem).clone(),
            other => return Err(error(other, "`receive` takes the socket by reference: `ws: &Socket`")),
        },
        _ => {
            return Err(error(
                &receive.sig.ident,
                "`receive` takes `(&mut self, ws: &Socket, msg: Message)` (or `&Socket<In, Out>` and `msg: In`)",
            ));
        }
    };
    let has_disconnect = method_named(imp, "disconnect").is_some();
    let Some(connect) = method_named(imp, "connect") else {
        return Err(error(
            span,
            "a WebSocket consumer needs `async fn connect(ws: WebSocket, ..) -> Result<(Self, Socket)>`, \
             or `async fn connect(&mut self, ws: WebSocket, ..) -> Result<Socket>` on a type that is `Default`",
        ));
    };
    let connect_on_self = match connect.sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_some() => true,
        Some(FnArg::Receiver(r)) => return Err(error(r, "`connect` takes `&mut self` (or no `self`)")),
        _ => false,
    };
    let mut plain = connect.sig.clone();
    if connect_on_self {
        plain.inputs = plain.inputs.into_iter().skip(1).collect();
    }
    check_signature(&plain)?;
    let args = classify_args(&connect.sig, params, tail, path)?;
    strip_param_attrs(&mut connect.sig);
    let connected = match &connect.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => connect.sig.ident.span(),
    };
    Ok((args, socket, has_disconnect, connect_on_self, connected))
}

fn check_signature(sig: &Signature) -> syn::Result<()> {
    if sig.asyncness.is_none() {
        return Err(error(sig.fn_token, "route handlers must be `async fn`: add `async` before `fn`"));
    }
    if !sig.generics.params.is_empty() {
        return Err(error(&sig.generics, "route handlers cannot be generic: one route, one concrete function"));
    }
    if let Some(FnArg::Receiver(r)) = sig.inputs.first() {
        return Err(error(r, "route handlers are free functions: move this one out of the `impl` block"));
    }
    Ok(())
}

/// Which marker an argument carries: `#[query]`, `#[header]`, `#[path]` (constraints on a path
/// parameter) or `#[body]`, with an explicit name and constraints.
enum Marker {
    None,
    Query(Option<String>, Option<Constraints>),
    Header(Option<String>, Option<Constraints>),
    Path(Option<Constraints>),
    Body,
}

const MARKERS: [&str; 4] = ["query", "header", "path", "body"];

fn marker(attrs: &[Attribute]) -> syn::Result<Marker> {
    let mut found = Marker::None;
    for attr in attrs {
        let Some(which) = MARKERS.iter().find(|m| attr.path().is_ident(m)) else { continue };
        if !matches!(found, Marker::None) {
            return Err(error(attr, "an argument takes at most one of #[query], #[header], #[path] and #[body]"));
        }
        let (name, constraints) = match &attr.meta {
            Meta::Path(_) => (None, None),
            Meta::List(list) if *which == "body" => return Err(error(list, "#[body] takes no options")),
            Meta::List(list) => {
                let items = list.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated)?;
                let mut name = None;
                let mut c = Constraints::default();
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if i == 0 && *which != "path" => {
                            name = Some(s.value())
                        }
                        Expr::Assign(a) => {
                            let key = match &*a.left {
                                Expr::Path(p) => p.path.get_ident().cloned(),
                                _ => None,
                            };
                            let Some(key) = key else { return Err(error(&a.left, "expected a constraint name")) };
                            constraint(&mut c, &key, &a.right)?;
                        }
                        other => {
                            return Err(error(
                                other,
                                format!("#[{which}] takes an optional name first, then constraints like `le = 100`"),
                            ));
                        }
                    }
                }
                (name, Some(c))
            }
            Meta::NameValue(nv) => {
                return Err(error(
                    nv,
                    format!("write #[{which}(\"name\", le = 100)]: a name and constraints in parentheses"),
                ));
            }
        };
        found = match *which {
            "query" => Marker::Query(name, constraints),
            "header" => Marker::Header(name, constraints),
            "path" => Marker::Path(constraints),
            _ => Marker::Body,
        };
    }
    Ok(found)
}

fn classify_args(sig: &Signature, params: &[&str], tail: Option<&str>, path_lit: &LitStr) -> syn::Result<Vec<Arg>> {
    let mut args = Vec::new();
    let mut bound = vec![false; params.len()];
    for input in &sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let ident = match &*pt.pat {
            Pat::Ident(p) => Some(p.ident.to_string()),
            _ => None,
        };
        let ident = ident.as_deref().map(|s| s.strip_prefix("r#").unwrap_or(s));
        let full_ty = (*pt.ty).clone();
        let arg = |kind, ty: &Type, constraints| Arg {
            kind,
            ty: ty.clone(),
            full_ty: full_ty.clone(),
            span: pt.pat.span(),
            constraints,
        };
        let param_index = ident.and_then(|name| params.iter().position(|p| *p == name));
        let pushed = match (marker(&pt.attrs)?, param_index) {
            (m @ (Marker::None | Marker::Path(_)), Some(index)) => {
                let constraints = match m {
                    Marker::Path(c) => c,
                    _ => None,
                };
                bound[index] = true;
                let name = params[index].to_string();
                arg(ArgKind::Path { index, tail: tail == Some(params[index]), name }, &full_ty, constraints)
            }
            (Marker::Path(_), None) => {
                return Err(error(
                    &pt.pat,
                    "#[path] constrains a path parameter: the route's path has no `<name>` segment with this argument's name",
                ));
            }
            (Marker::None, None) => {
                let name = ident.unwrap_or_default().to_string();
                if is_string(&full_ty) {
                    arg(ArgKind::Query { name, optional: false, list: false }, &full_ty, None)
                } else if let Some(inner) = wrapped(&full_ty, "Option") {
                    if is_string(inner) {
                        arg(ArgKind::Query { name, optional: true, list: false }, inner, None)
                    } else {
                        arg(ArgKind::Auto { name, optional: true }, inner, None)
                    }
                } else if let Some(inner) = wrapped(&full_ty, "Vec") {
                    arg(ArgKind::Query { name, optional: false, list: true }, inner, None)
                } else {
                    arg(ArgKind::Auto { name, optional: false }, &full_ty, None)
                }
            }
            (Marker::Body, None) => arg(ArgKind::Extract, &full_ty, None),
            (_, Some(index)) => {
                return Err(error(
                    &pt.pat,
                    format!(
                        "`{}` is a path parameter: remove #[query]/#[header]/#[body], or rename it (write #[path(..)] for constraints)",
                        params[index]
                    ),
                ));
            }
            (Marker::Query(name, c), None) => named(pt, ident, c, |optional, list| ArgKind::Query {
                name: name.unwrap_or_else(|| ident.unwrap_or_default().to_string()),
                optional,
                list,
            })?,
            (Marker::Header(name, c), None) => named(pt, ident, c, |optional, _| ArgKind::Header {
                name: name.unwrap_or_else(|| ident.unwrap_or_default().replace('_', "-")),
                optional,
            })?,
        };
        args.push(pushed);
    }
    if let Some(missing) = bound.iter().position(|b| !b) {
        let name = params[missing];
        return Err(error(
            path_lit,
            format!(
                "path parameter `<{name}>` has no matching argument: add `{name}: T` to the arguments of `{}`",
                sig.ident
            ),
        ));
    }
    Ok(args)
}

/// A `#[query]` or `#[header]` argument: needs a plain name; `Option<T>` makes it optional,
/// `Vec<T>` (query only) a repeated parameter.
fn named(
    pt: &syn::PatType,
    ident: Option<&str>,
    constraints: Option<Constraints>,
    kind: impl FnOnce(bool, bool) -> ArgKind,
) -> syn::Result<Arg> {
    if ident.is_none() {
        return Err(error(&pt.pat, "#[query] and #[header] arguments need a plain name, like `user_agent: String`"));
    }
    let full_ty = (*pt.ty).clone();
    let (optional, list, ty) = match (wrapped(&pt.ty, "Option"), wrapped(&pt.ty, "Vec")) {
        (Some(inner), _) => (true, false, inner.clone()),
        (None, Some(inner)) => (false, true, inner.clone()),
        (None, None) => (false, false, full_ty.clone()),
    };
    let kind = kind(optional, list);
    if list && matches!(kind, ArgKind::Header { .. }) {
        return Err(error(&pt.ty, "a #[header] argument is one value: take `String` and split it yourself"));
    }
    Ok(Arg { kind, ty, full_ty, span: pt.pat.span(), constraints })
}

/// `String` (also `std::string::String`).
fn is_string(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "String" && s.arguments.is_empty()))
}

/// `Option<T>` / `Vec<T>` (by the last segment's name) gives `T`.
fn wrapped<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// Removes the argument markers, which are not real attributes.
pub(crate) fn strip_param_attrs(sig: &mut Signature) {
    for input in sig.inputs.iter_mut() {
        if let FnArg::Typed(pt) = input {
            pt.attrs.retain(|a| !MARKERS.iter().any(|m| a.path().is_ident(m)));
        }
    }
}

fn doc_string(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).to_string())
        .collect();
    lines.join("\n").trim().to_string()
}
