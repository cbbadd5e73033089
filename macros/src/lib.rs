//! Procedural macros of [sockeye](https://docs.rs/sockeye): route attributes, `router!` and
//! `#[derive(Model)]`.
//!
//! Entry points are thin: each parses and validates into a typed description (`parse.rs`),
//! then quotes it (`codegen.rs`). Generated code names only `<root>::__private::...`, where
//! `<root>` is sockeye as the user's `Cargo.toml` names it (see `krate`), found once per
//! expansion and passed down.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use sockeye_path as path;

mod codegen;
mod constraints;
mod model;
mod parse;
mod router;
mod schema;
mod validate;

/// The path of sockeye in the crate being compiled: `::sockeye`, or `::web` when its
/// `Cargo.toml` says `web = { package = "sockeye", .. }`. Inside sockeye itself (its own tests
/// and examples too) `::sockeye` works: its `lib.rs` has `extern crate self as sockeye;`.
/// When the manifest cannot be read, `::sockeye` is the best guess.
fn krate() -> TokenStream2 {
    use proc_macro_crate::{FoundCrate, crate_name};
    match crate_name("sockeye") {
        Ok(FoundCrate::Name(name)) => {
            let ident = proc_macro2::Ident::new(&name, proc_macro2::Span::call_site());
            quote!(::#ident)
        }
        Ok(FoundCrate::Itself) | Err(_) => quote!(::sockeye),
    }
}

/// What generated code names everything through: `<root>::__private`.
fn private() -> TokenStream2 {
    let root = krate();
    quote!(#root::__private)
}

/// `tokens` with every span set to `span`: the root path in a `quote_spanned!`, so an error
/// there points where the rest of the call does (the user's type, say).
fn respan(tokens: &TokenStream2, span: proc_macro2::Span) -> TokenStream2 {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(g) = &tree {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(&g.stream(), span));
                group.set_span(span);
                tree = group.into();
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

fn expand_route(kind: parse::Attr, attr: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.clone().into();
    match parse::route(kind, attr.into(), item2.clone()).map(|r| codegen::route(&r, &private())) {
        Ok(tokens) => tokens.into(),
        // Keep the function so rust-analyzer and later errors still see it.
        Err(e) => {
            let mut out = strip_param_attrs(item2);
            out.extend(e.into_compile_error());
            out.into()
        }
    }
}

fn strip_param_attrs(item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(mut f)) => {
            f.attrs.retain(|a| !parse::is_secured(a)); // read by the route attribute, even when failing
            parse::strip_param_attrs(&mut f.sig);
            quote::quote!(#f)
        }
        Ok(syn::Item::Impl(mut imp)) => {
            imp.attrs.retain(|a| !parse::is_secured(a));
            for i in imp.items.iter_mut() {
                if let syn::ImplItem::Fn(f) = i {
                    parse::strip_param_attrs(&mut f.sig);
                }
            }
            quote::quote!(#imp)
        }
        _ => item,
    }
}

/// `#[get("/path")]`: see `sockeye::get`.
#[proc_macro_attribute]
pub fn get(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_route(parse::Attr::Method("GET"), attr, item)
}

/// `#[post("/path")]`: see `sockeye::post`.
#[proc_macro_attribute]
pub fn post(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_route(parse::Attr::Method("POST"), attr, item)
}

/// `#[put("/path")]`: see `sockeye::put`.
#[proc_macro_attribute]
pub fn put(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_route(parse::Attr::Method("PUT"), attr, item)
}

/// `#[patch("/path")]`: see `sockeye::patch`.
#[proc_macro_attribute]
pub fn patch(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_route(parse::Attr::Method("PATCH"), attr, item)
}

/// `#[delete("/path")]`: see `sockeye::delete`.
#[proc_macro_attribute]
pub fn delete(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_route(parse::Attr::Method("DELETE"), attr, item)
}

/// `#[route("/path", method = "OPTIONS")]`: see `sockeye::route`.
#[proc_macro_attribute]
pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_route(parse::Attr::Any, attr, item)
}

/// `#[websocket("/ws/<room>")]`: see `sockeye::websocket`.
#[proc_macro_attribute]
pub fn websocket(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_route(parse::Attr::WebSocket, attr, item)
}

/// `sockeye::router!(prefix = "/api")`: see `sockeye::router`.
#[proc_macro]
pub fn router(input: TokenStream) -> TokenStream {
    match router::expand(input.into(), &private()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// `#[secured]` / `#[secured(roles = ["admin"], scopes = ["write"])]`: see `sockeye::secured`.
///
/// The route attribute reads it. Written above the route attribute, this macro runs first
/// and only moves itself below it.
#[proc_macro_attribute]
pub fn secured(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr: proc_macro2::TokenStream = attr.into();
    let item2: proc_macro2::TokenStream = item.into();
    let mut parsed: syn::Item = match syn::parse2(item2.clone()) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error().into(),
    };
    let attrs = match &mut parsed {
        syn::Item::Fn(f) => &mut f.attrs,
        syn::Item::Impl(i) => &mut i.attrs,
        _ => return secured_alone(&attr, item2),
    };
    const ROUTES: [&str; 7] = ["get", "post", "put", "patch", "delete", "route", "websocket"];
    let Some(at) =
        attrs.iter().position(|a| a.path().segments.last().is_some_and(|s| ROUTES.iter().any(|r| s.ident == r)))
    else {
        return secured_alone(&attr, item2);
    };
    let route = attrs.remove(at);
    let p = private();
    let marker: syn::Attribute = syn::parse_quote!(#[#p::secured(#attr)]);
    attrs.insert(0, marker);
    attrs.insert(0, route);
    quote::quote!(#parsed).into()
}

fn secured_alone(attr: &proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> TokenStream {
    let _ = attr;
    let mut out = item;
    out.extend(
        syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[secured] goes with a route attribute: #[get], #[post], #[put], #[patch], #[delete], #[route] or #[websocket]",
        )
        .into_compile_error(),
    );
    out.into()
}

/// `#[derive(Model)]` with `#[model(table = "products")]`: see `sockeye::live::Model`.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    match model::expand(input.into(), &private()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// `#[derive(JsonSchema)]`: see `sockeye::JsonSchema`.
#[proc_macro_derive(JsonSchema, attributes(serde))]
pub fn derive_json_schema(input: TokenStream) -> TokenStream {
    match schema::expand(input.into(), &private()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// `#[derive(Validate)]` with `#[validate(min_length = 1)]` on fields: see `sockeye::Validate`.
#[proc_macro_derive(Validate, attributes(validate))]
pub fn derive_validate(input: TokenStream) -> TokenStream {
    match validate::expand(input.into(), &private()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.into_compile_error().into(),
    }
}
