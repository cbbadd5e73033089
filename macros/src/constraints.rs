//! Constraints on a parameter or field (`ge = 1`, `max_length = 50`, `pattern = "^a"`): read
//! from attributes, checked where they can be at compile time, and quoted as a
//! `Constraints` static (sockeye's `validation::Constraints`) and the checks that use it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{Expr, ExprLit, Lit, spanned::Spanned};

fn error(span: impl Spanned, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span.span(), msg)
}

/// Constraints on a parameter: numeric bounds as (value, literal text), lengths, a pattern.
#[derive(Default)]
pub(crate) struct Constraints {
    pub(crate) bounds: Vec<(&'static str, f64, String)>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) pattern: Option<String>,
}

impl Constraints {
    pub(crate) fn numeric(&self) -> bool {
        !self.bounds.is_empty()
    }
    pub(crate) fn length(&self) -> bool {
        self.min_length.is_some() || self.max_length.is_some()
    }
}

/// Reads `key = value` constraints (`ge = 1`, `max_length = 50`, `pattern = "^a"`); `key` is
/// an unknown one when it is none of them.
pub(crate) fn constraint(c: &mut Constraints, key: &syn::Ident, value: &Expr) -> syn::Result<()> {
    let k = key.to_string();
    match k.as_str() {
        "gt" | "ge" | "lt" | "le" => {
            let (neg, lit) = match value {
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => (true, &*u.expr),
                other => (false, other),
            };
            let (v, text) = match lit {
                Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => {
                    (i.base10_parse::<f64>()?, i.base10_digits().to_string())
                }
                Expr::Lit(ExprLit { lit: Lit::Float(f), .. }) => {
                    (f.base10_parse::<f64>()?, f.base10_digits().to_string())
                }
                other => return Err(error(other, format!("`{k}` takes a number, like `{k} = 100`"))),
            };
            let name = match k.as_str() {
                "gt" => "gt",
                "ge" => "ge",
                "lt" => "lt",
                _ => "le",
            };
            c.bounds.push((name, if neg { -v } else { v }, if neg { format!("-{text}") } else { text }));
        }
        "min_length" | "max_length" => {
            let n = match value {
                Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<u64>()?,
                other => return Err(error(other, format!("`{k}` takes a whole number"))),
            };
            if k == "min_length" { c.min_length = Some(n) } else { c.max_length = Some(n) }
        }
        "pattern" => match value {
            Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => {
                if let Err(e) = regex_syntax::Parser::new().parse(&s.value()) {
                    return Err(error(s, format!("`pattern` is not a valid regular expression: {e}")));
                }
                c.pattern = Some(s.value());
            }
            other => return Err(error(other, "`pattern` takes a string literal, like `pattern = \"^[a-z]+$\"`")),
        },
        _ => {
            return Err(error(
                key,
                "unknown constraint: write gt, ge, lt, le (numbers), min_length, max_length (strings, lists) or pattern",
            ));
        }
    }
    Ok(())
}

impl Constraints {
    /// `static #name: Constraints = Constraints::new().le(..)...;`
    pub(crate) fn to_static(&self, name: &syn::Ident, p: &TokenStream) -> TokenStream {
        let bounds = self.bounds.iter().map(|(which, value, text)| {
            let which = format_ident!("{}", which);
            quote!(.#which(#p::validation::Bound::new(#value, #text)))
        });
        let min = self.min_length.map(|n| quote!(.min_length(#n as usize)));
        let max = self.max_length.map(|n| quote!(.max_length(#n as usize)));
        let pattern = self.pattern.as_ref().map(|p| quote!(.pattern(#p)));
        quote! {
            static #name: #p::validation::Constraints =
                #p::validation::Constraints::new() #(#bounds)* #min #max #pattern;
        }
    }

    /// The checks of `value` (of type `ty`) against the static `name`, adding to `errors` at
    /// `loc`; spanned on the type, so a constraint that does not fit it underlines it.
    pub(crate) fn checks(
        &self,
        name: &syn::Ident,
        ty: &syn::Type,
        value: TokenStream,
        loc: TokenStream,
        errors: TokenStream,
    ) -> TokenStream {
        let span = ty.span();
        let mut calls = Vec::new();
        if self.numeric() {
            calls.push(quote_spanned!(span=> #name.check_number::<#ty>(#value, #loc, #errors);));
        }
        if self.length() {
            calls.push(quote_spanned!(span=> #name.check_length::<#ty>(#value, #loc, #errors);));
        }
        if self.pattern.is_some() {
            calls.push(quote_spanned!(span=> #name.check_pattern::<#ty>(#value, #loc, #errors);));
        }
        quote!(#(#calls)*)
    }
}
