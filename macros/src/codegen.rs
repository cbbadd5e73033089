//! Quotes a validated [`Route`]: the user's function unchanged, plus a small wrapper that
//! extracts each argument and an `inventory` registration. All logic lives in
//! `sockeye::__private`, which is ordinary tested Rust.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::parse::{Arg, ArgKind, Route};

fn extraction(i: usize, arg: &Arg) -> TokenStream {
    let var = format_ident!("__arg{}", i);
    let ty = &arg.ty;
    let helper = match &arg.kind {
        ArgKind::Path { .. } => "path_param",
        ArgKind::Query { optional: false, .. } => "query_param",
        ArgKind::Query { optional: true, .. } => "query_param_opt",
        ArgKind::Header { optional: false, .. } => "header_param",
        ArgKind::Header { optional: true, .. } => "header_param_opt",
        ArgKind::Extract => "extract",
    };
    // Every token of the call is spanned on the user's type, so a missing `FromStr` or
    // extractor impl underlines the type rather than the attribute.
    let helper = format_ident!("{}", helper, span = ty.span());
    let call = match &arg.kind {
        ArgKind::Path { index, name } => {
            quote_spanned!(ty.span()=> ::sockeye::__private::#helper::<#ty>(&__req, #index, #name))
        }
        ArgKind::Query { name, .. } | ArgKind::Header { name, .. } => {
            quote_spanned!(ty.span()=> ::sockeye::__private::#helper::<#ty>(&__req, #name))
        }
        ArgKind::Extract => quote_spanned!(ty.span()=> ::sockeye::__private::#helper::<#ty>(&__req, &mut __body).await),
    };
    quote! {
        let #var = match #call {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(response) => return response,
        };
    }
}

pub(crate) fn route(route: &Route) -> TokenStream {
    let func = &route.func;
    let ident = &func.sig.ident;
    let name = ident.to_string();
    let method = &route.method;
    let path = &route.path;
    let doc = &route.doc;
    let extractions = route.args.iter().enumerate().map(|(i, a)| extraction(i, a));
    let vars = (0..route.args.len()).map(|i| format_ident!("__arg{}", i));
    let output_span = match &func.sig.output {
        syn::ReturnType::Default => ident.span(),
        syn::ReturnType::Type(_, ty) => ty.span(),
    };
    let call = quote_spanned!(output_span=> ::sockeye::__private::respond(#ident(#(#vars),*).await));
    quote! {
        #func

        const _: () = {
            fn __sockeye_handler(
                __request: ::sockeye::__private::Request,
            ) -> ::sockeye::__private::HandlerFuture {
                ::std::boxed::Box::pin(async move {
                    let (__req, mut __body) = __request.split();
                    let _ = &mut __body;
                    #(#extractions)*
                    #call
                })
            }
            ::sockeye::__private::inventory::submit! {
                ::sockeye::__private::RouteDef::new(
                    #method, #path, #name, ::core::module_path!(), ::core::file!(), ::core::line!(), #doc,
                    __sockeye_handler,
                )
            }
        };
    }
}
