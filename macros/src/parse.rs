//! Parses and validates a route attribute and its function into a [`Route`]. Every user
//! mistake is reported here, with a span on the offending token and a way to fix it.

use proc_macro2::{Span, TokenStream};
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, ItemFn, Lit, LitStr, Meta, Pat, PathArguments, Token, Type,
    parse::Parser, punctuated::Punctuated, spanned::Spanned,
};

use crate::path;

/// A validated route: everything codegen needs, nothing it has to check.
pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) path: LitStr,
    pub(crate) func: ItemFn,
    pub(crate) args: Vec<Arg>,
    pub(crate) doc: String,
}

pub(crate) struct Arg {
    pub(crate) kind: ArgKind,
    /// The argument's type; for an optional `#[query]`/`#[header]`, the type inside `Option`.
    pub(crate) ty: Type,
}

pub(crate) enum ArgKind {
    Path { index: usize, name: String },
    Query { name: String, optional: bool },
    Header { name: String, optional: bool },
    Extract,
}

fn error(span: impl Spanned, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span.span(), msg)
}

/// Attribute arguments: the path literal, then `key = "value"` options.
struct AttrArgs {
    path: LitStr,
    method: Option<LitStr>,
}

fn parse_attr(method_fixed: bool, attr: TokenStream) -> syn::Result<AttrArgs> {
    let items = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(attr.clone())?;
    let mut iter = items.into_iter();
    let path = match iter.next() {
        Some(Expr::Lit(ExprLit { lit: Lit::Str(s), .. })) => s,
        Some(other) => return Err(error(other, "expected the route path as a string literal, like \"/items/<id>\"")),
        None => return Err(error(Span::call_site(), "missing route path: write #[get(\"/items/<id>\")]")),
    };
    let mut method = None;
    for item in iter {
        let Expr::Assign(assign) = &item else {
            return Err(error(item, "expected an option like `method = \"OPTIONS\"`"));
        };
        let key = match &*assign.left {
            Expr::Path(p) if p.path.is_ident("method") && !method_fixed => "method",
            other => return Err(error(other, "unknown route option")),
        };
        let Expr::Lit(ExprLit { lit: Lit::Str(value), .. }) = &*assign.right else {
            return Err(error(&assign.right, format!("`{key}` takes a string literal")));
        };
        method = Some(value.clone());
    }
    Ok(AttrArgs { path, method })
}

fn check_method(lit: &LitStr) -> syn::Result<String> {
    let m = lit.value();
    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(error(lit, "a method is written in capitals, like \"OPTIONS\" or \"PROPFIND\""));
    }
    Ok(m)
}

pub(crate) fn route(method: Option<&str>, attr: TokenStream, item: TokenStream) -> syn::Result<Route> {
    let args = parse_attr(method.is_some(), attr)?;
    let method = match (method, &args.method) {
        (Some(m), _) => m.to_string(),
        (None, Some(lit)) => check_method(lit)?,
        (None, None) => {
            return Err(error(&args.path, "#[route] needs a method: #[route(\"/path\", method = \"OPTIONS\")]"));
        }
    };
    let mut func: ItemFn = syn::parse2(item)?;
    check_signature(&func)?;
    let path_value = args.path.value();
    let segments = path::parse(&path_value).map_err(|e| error(&args.path, e.message))?;
    let params = path::params(&segments);
    let fn_args = classify_args(&func, &params, &args.path)?;
    strip_param_attrs(&mut func);
    let doc = doc_string(&func.attrs);
    Ok(Route { method, path: args.path, func, args: fn_args, doc })
}

fn check_signature(func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
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

/// Which `#[query]` / `#[header]` marker an argument carries, with its explicit name.
enum Marker {
    None,
    Query(Option<String>),
    Header(Option<String>),
}

fn marker(attrs: &[Attribute]) -> syn::Result<Marker> {
    let mut found = Marker::None;
    for attr in attrs {
        let is_query = attr.path().is_ident("query");
        if !is_query && !attr.path().is_ident("header") {
            continue;
        }
        if !matches!(found, Marker::None) {
            return Err(error(attr, "an argument takes at most one of #[query] and #[header]"));
        }
        let name = match &attr.meta {
            Meta::Path(_) => None,
            Meta::List(list) => Some(list.parse_args::<LitStr>()?.value()),
            Meta::NameValue(nv) => return Err(error(nv, "write #[header(\"X-Name\")] to name the header")),
        };
        found = if is_query { Marker::Query(name) } else { Marker::Header(name) };
    }
    Ok(found)
}

fn classify_args(func: &ItemFn, params: &[&str], path_lit: &LitStr) -> syn::Result<Vec<Arg>> {
    let mut args = Vec::new();
    let mut bound = vec![false; params.len()];
    for input in &func.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let ident = match &*pt.pat {
            Pat::Ident(p) => Some(p.ident.to_string()),
            _ => None,
        };
        let ident = ident.as_deref().map(|s| s.strip_prefix("r#").unwrap_or(s));
        let ty = (*pt.ty).clone();
        let param_index = ident.and_then(|name| params.iter().position(|p| *p == name));
        let arg = match (marker(&pt.attrs)?, param_index) {
            (Marker::None, Some(index)) => {
                bound[index] = true;
                Arg { kind: ArgKind::Path { index, name: params[index].to_string() }, ty }
            }
            (Marker::None, None) => Arg { kind: ArgKind::Extract, ty },
            (_, Some(index)) => {
                return Err(error(
                    &pt.pat,
                    format!("`{}` is a path parameter: remove #[query]/#[header], or rename it", params[index]),
                ));
            }
            (Marker::Query(name), None) => named(pt, ident, |optional| ArgKind::Query {
                name: name.unwrap_or_else(|| ident.unwrap_or_default().to_string()),
                optional,
            })?,
            (Marker::Header(name), None) => named(pt, ident, |optional| ArgKind::Header {
                name: name.unwrap_or_else(|| ident.unwrap_or_default().replace('_', "-")),
                optional,
            })?,
        };
        args.push(arg);
    }
    if let Some(missing) = bound.iter().position(|b| !b) {
        let name = params[missing];
        return Err(error(
            path_lit,
            format!(
                "path parameter `<{name}>` has no matching argument: add `{name}: T` to the arguments of `{}`",
                func.sig.ident
            ),
        ));
    }
    Ok(args)
}

/// A `#[query]` or `#[header]` argument: needs a plain name; `Option<T>` makes it optional.
fn named(pt: &syn::PatType, ident: Option<&str>, kind: impl FnOnce(bool) -> ArgKind) -> syn::Result<Arg> {
    if ident.is_none() {
        return Err(error(&pt.pat, "#[query] and #[header] arguments need a plain name, like `user_agent: String`"));
    }
    Ok(match option_inner(&pt.ty) {
        Some(inner) => Arg { kind: kind(true), ty: inner.clone() },
        None => Arg { kind: kind(false), ty: (*pt.ty).clone() },
    })
}

/// `Option<T>` (also `std::option::Option<T>`) gives `T`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// Removes the `#[query]` / `#[header]` markers, which are not real attributes.
pub(crate) fn strip_param_attrs(func: &mut ItemFn) {
    for input in func.sig.inputs.iter_mut() {
        if let FnArg::Typed(pt) = input {
            pt.attrs.retain(|a| !a.path().is_ident("query") && !a.path().is_ident("header"));
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
