//! `router!(prefix = "/api/v1")`: registers the module's router and defines `router()`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Expr, ExprLit, Lit, LitStr, Token, parse::Parser, punctuated::Punctuated};

use crate::path;

pub(crate) fn expand(input: TokenStream, p: &TokenStream) -> syn::Result<TokenStream> {
    let items = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(input)?;
    let mut prefix = LitStr::new("", Span::call_site());
    for item in items {
        let bad = || syn::Error::new_spanned(&item, "expected `prefix = \"/api/v1\"`");
        let Expr::Assign(assign) = &item else { return Err(bad()) };
        let Expr::Path(key) = &*assign.left else { return Err(bad()) };
        if !key.path.is_ident("prefix") {
            return Err(syn::Error::new_spanned(key, "unknown option: router! takes `prefix = \"...\"`"));
        }
        let Expr::Lit(ExprLit { lit: Lit::Str(value), .. }) = &*assign.right else { return Err(bad()) };
        prefix = value.clone();
    }
    let value = prefix.value();
    if !value.is_empty() && value != "/" {
        let segments = path::parse(&value).map_err(|e| syn::Error::new_spanned(&prefix, e.message))?;
        if !path::params(&segments).is_empty() {
            return Err(syn::Error::new_spanned(&prefix, "a router prefix is literal text: it cannot hold parameters"));
        }
    }
    Ok(quote! {
        /// The router of this module: its routes and its submodules', under its prefix.
        #[allow(dead_code, unreachable_pub)]
        pub fn router() -> #p::Router {
            #p::module_router(::core::module_path!())
        }

        const _: () = {
            #p::inventory::submit! {
                #p::def::router(::core::module_path!(), #prefix)
            }
        };
    })
}
