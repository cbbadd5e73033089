//! `#[derive(Validate)]`: each field's `#[validate(..)]` constraints become a static and a
//! check; all logic is in `sockeye::validation`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{Data, DeriveInput, Expr, Fields, Meta, Token, punctuated::Punctuated, spanned::Spanned};

use crate::constraints::{Constraints, constraint};

struct Field {
    ident: syn::Ident,
    ty: syn::Type,
    name: String,
    constraints: Constraints,
    nested: bool,
}

fn read_field(container: &[syn::Attribute], f: &syn::Field) -> syn::Result<Option<Field>> {
    let Some(ident) = f.ident.clone() else { return Ok(None) };
    let mut constraints = Constraints::default();
    let mut nested = false;
    let mut any = false;
    for attr in f.attrs.iter().filter(|a| a.path().is_ident("validate")) {
        any = true;
        let Meta::List(list) = &attr.meta else {
            return Err(syn::Error::new(attr.span(), "write #[validate(min_length = 1)] or #[validate(nested)]"));
        };
        for item in list.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated)? {
            match item {
                Expr::Path(p) if p.path.is_ident("nested") => nested = true,
                Expr::Assign(a) => {
                    let key = match &*a.left {
                        Expr::Path(p) => p.path.get_ident().cloned(),
                        _ => None,
                    };
                    let Some(key) = key else {
                        return Err(syn::Error::new(a.left.span(), "expected a constraint name"));
                    };
                    constraint(&mut constraints, &key, &a.right)?;
                }
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "#[validate] takes constraints like `min_length = 1`, `le = 100`, `pattern = \"^a\"`, or `nested`",
                    ));
                }
            }
        }
    }
    if !any {
        return Ok(None);
    }
    let name = crate::schema::read_name(container, &ident, &f.attrs)?;
    Ok(Some(Field { ident, ty: f.ty.clone(), name, constraints, nested }))
}

pub(crate) fn expand(input: TokenStream, p: &TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(input.ident.span(), "#[derive(Validate)] goes on a struct with named fields"));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(input.ident.span(), "#[derive(Validate)] goes on a struct with named fields"));
    };
    let mut fields = Vec::new();
    for f in &named.named {
        if let Some(field) = read_field(&input.attrs, f)? {
            fields.push(field);
        }
    }
    let mut statics = Vec::new();
    let mut checks = Vec::new();
    let mut listed = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let (ident, ty, name, c) = (&f.ident, &f.ty, &f.name, &f.constraints);
        let statik = format_ident!("__SOCKEYE_FIELD_{}", i);
        statics.push(c.to_static(&statik, p));
        listed.push(quote!((#name, &#statik)));
        let mut calls = vec![c.checks(&statik, ty, quote!(&self.#ident), quote!(__loc), quote!(__errors))];
        if f.nested {
            let p = crate::respan(p, ty.span());
            calls.push(quote_spanned!(ty.span()=> #p::Validate::validate(&self.#ident, __loc, __errors);));
        }
        checks.push(quote! {
            __loc.push(<#p::serde_json::Value as ::core::convert::From<&str>>::from(#name));
            #(#calls)*
            __loc.pop();
        });
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        const _: () = {
            #(#statics)*
            impl #impl_generics #p::Validate for #ident #ty_generics #where_clause {
                fn validate(
                    &self,
                    __loc: &mut ::std::vec::Vec<#p::serde_json::Value>,
                    __errors: &mut ::std::vec::Vec<#p::ValidationError>,
                ) {
                    let _ = (&__loc, &__errors);
                    #(#checks)*
                }

                fn constraints() -> ::std::vec::Vec<(&'static str, &'static #p::validation::Constraints)> {
                    ::std::vec![#(#listed),*]
                }
            }
        };
    })
}
