//! `#[derive(JsonSchema)]`: reads a type's serde attributes into a `sockeye::docs::Shape`
//! (names as serde writes them, tagging, optional fields); the schema is built at run time by
//! ordinary tested code. Each field's schema comes from its type through the docs probe
//! (a `JsonSchema` impl, else its traced `Deserialize`, else any value).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, meta::ParseNestedMeta, spanned::Spanned};

/// What serde's attributes on one item say, as far as the schema cares.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<(String, proc_macro2::Span)>,
    rename_all_fields: Option<(String, proc_macro2::Span)>,
    tag: Option<String>,
    content: Option<String>,
    untagged: bool,
    deny: bool,
    transparent: bool,
    skip: bool,
    optional: bool,
    flatten: bool,
}

/// `= "x"`, or `(serialize = "a", deserialize = "b")` (the deserialized name wins).
fn name_value(meta: &ParseNestedMeta) -> syn::Result<String> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(meta.value()?.parse::<LitStr>()?.value());
    }
    let (mut ser, mut de) = (None, None);
    meta.parse_nested_meta(|inner| {
        let v = inner.value()?.parse::<LitStr>()?.value();
        if inner.path.is_ident("deserialize") {
            de = Some(v);
        } else {
            ser = Some(v);
        }
        Ok(())
    })?;
    de.or(ser).ok_or_else(|| meta.error("expected a name"))
}

/// Consumes an option's value, whatever it is.
fn ignore(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

fn serde(attrs: &[Attribute]) -> syn::Result<Serde> {
    let mut s = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            match key.as_str() {
                "rename" => s.rename = Some(name_value(&meta)?),
                "rename_all" => s.rename_all = Some((name_value(&meta)?, meta.path.span())),
                "rename_all_fields" => s.rename_all_fields = Some((name_value(&meta)?, meta.path.span())),
                "tag" => s.tag = Some(name_value(&meta)?),
                "content" => s.content = Some(name_value(&meta)?),
                "untagged" => s.untagged = true,
                "deny_unknown_fields" => s.deny = true,
                "transparent" => s.transparent = true,
                "flatten" => s.flatten = true,
                "skip" | "skip_serializing" | "skip_deserializing" | "other" => {
                    s.skip = true;
                    ignore(&meta)?;
                }
                "default" | "skip_serializing_if" => {
                    s.optional = true;
                    ignore(&meta)?;
                }
                _ => ignore(&meta)?,
            }
            Ok(())
        })?;
    }
    Ok(s)
}

/// serde's `rename_all` rules; `variant` names are PascalCase, field names snake_case.
fn rename(name: &str, rule: &(String, proc_macro2::Span), variant: bool) -> syn::Result<String> {
    let words: Vec<String> = if variant {
        let mut words = Vec::new();
        for c in name.chars() {
            if c.is_uppercase() || words.is_empty() {
                words.push(String::new());
            }
            if let Some(w) = words.last_mut() {
                w.push(c);
            }
        }
        words.into_iter().map(|w| w.to_lowercase()).collect()
    } else {
        name.split('_').map(str::to_string).collect()
    };
    let cap = |w: &String| {
        let mut c = w.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
    };
    Ok(match rule.0.as_str() {
        "lowercase" => words.concat(),
        "UPPERCASE" => words.concat().to_uppercase(),
        "PascalCase" => words.iter().map(cap).collect(),
        "camelCase" => {
            let pascal: String = words.iter().map(cap).collect();
            let mut c = pascal.chars();
            c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
        }
        "snake_case" => words.join("_"),
        "SCREAMING_SNAKE_CASE" => words.join("_").to_uppercase(),
        "kebab-case" => words.join("-"),
        "SCREAMING-KEBAB-CASE" => words.join("-").to_uppercase(),
        other => return Err(syn::Error::new(rule.1, format!("unknown rename_all rule \"{other}\""))),
    })
}

fn doc(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).to_string())
        .collect();
    lines.join("\n").trim().to_string()
}

fn schema_fn(ty: &syn::Type) -> TokenStream {
    quote!(|| (&&&::sockeye::__private::docs::Probe::<#ty>::new()).field_schema())
}

fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// The body of a struct or a variant: its fields, renamed by `rule`.
fn body(fields: &Fields, rule: Option<&(String, proc_macro2::Span)>, deny: bool) -> syn::Result<TokenStream> {
    Ok(match fields {
        Fields::Unit => quote!(::sockeye::docs::Body::Unit),
        Fields::Unnamed(u) if u.unnamed.len() == 1 => {
            let f = schema_fn(&u.unnamed[0].ty);
            quote!(::sockeye::docs::Body::Newtype(#f))
        }
        Fields::Unnamed(u) => {
            let fs = u.unnamed.iter().map(|f| schema_fn(&f.ty));
            quote!(::sockeye::docs::Body::Tuple(
                ::std::vec![#((#fs) as fn() -> ::sockeye::__private::serde_json::Value),*]
            ))
        }
        Fields::Named(n) => {
            let mut out = Vec::new();
            for f in &n.named {
                let s = serde(&f.attrs)?;
                if s.skip {
                    continue;
                }
                let ident = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
                let ident = ident.strip_prefix("r#").unwrap_or(&ident).to_string();
                let name = match (&s.rename, rule) {
                    (Some(r), _) => r.clone(),
                    (None, Some(rule)) => rename(&ident, rule, false)?,
                    (None, None) => ident,
                };
                let required = !s.optional && !is_option(&f.ty);
                let (flatten, d, schema) = (s.flatten, doc(&f.attrs), schema_fn(&f.ty));
                out.push(quote! {
                    ::sockeye::docs::Field { name: #name, doc: #d, required: #required, flatten: #flatten, schema: #schema }
                });
            }
            quote!(::sockeye::docs::Body::Struct { fields: ::std::vec![#(#out),*], deny: #deny })
        }
    })
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let container = serde(&input.attrs)?;
    let ident = &input.ident;
    let name = container.rename.clone().unwrap_or_else(|| ident.to_string());
    let type_doc = doc(&input.attrs);
    let body = match &input.data {
        Data::Struct(data) if container.transparent => {
            match data.fields.iter().find(|f| !serde(&f.attrs).is_ok_and(|s| s.skip)) {
                Some(f) => {
                    let f = schema_fn(&f.ty);
                    quote!(::sockeye::docs::Body::Newtype(#f))
                }
                None => quote!(::sockeye::docs::Body::Unit),
            }
        }
        Data::Struct(data) => body(&data.fields, container.rename_all.as_ref(), container.deny)?,
        Data::Enum(data) => {
            let tagging = match (&container.tag, &container.content, container.untagged) {
                (_, _, true) => quote!(::sockeye::docs::Tagging::Untagged),
                (Some(t), Some(c), _) => quote!(::sockeye::docs::Tagging::Adjacent(#t, #c)),
                (Some(t), None, _) => quote!(::sockeye::docs::Tagging::Internal(#t)),
                (None, _, _) => quote!(::sockeye::docs::Tagging::External),
            };
            let mut variants = Vec::new();
            for v in &data.variants {
                let s = serde(&v.attrs)?;
                if s.skip {
                    continue;
                }
                let vname = match (&s.rename, &container.rename_all) {
                    (Some(r), _) => r.clone(),
                    (None, Some(rule)) => rename(&v.ident.to_string(), rule, true)?,
                    (None, None) => v.ident.to_string(),
                };
                let rule = s.rename_all.as_ref().or(container.rename_all_fields.as_ref());
                let vbody = body(&v.fields, rule, container.deny)?;
                let d = doc(&v.attrs);
                variants.push(quote!(::sockeye::docs::Variant { name: #vname, doc: #d, body: #vbody }));
            }
            quote!(::sockeye::docs::Body::Enum { tagging: #tagging, variants: ::std::vec![#(#variants),*] })
        }
        Data::Union(u) => {
            return Err(syn::Error::new(u.union_token.span, "#[derive(JsonSchema)] goes on a struct or an enum"));
        }
    };
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::sockeye::docs::JsonSchema for #ident #ty_generics #where_clause {
            fn shape() -> ::core::option::Option<::sockeye::docs::Shape> {
                #[allow(unused_imports)]
                use ::sockeye::__private::docs::{AnySchema as _, KnownSchema as _, TracedSchema as _};
                ::core::option::Option::Some(::sockeye::docs::Shape { name: #name, doc: #type_doc, body: #body })
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::rename;

    fn rule(r: &str) -> (String, proc_macro2::Span) {
        (r.to_string(), proc_macro2::Span::call_site())
    }

    #[test]
    fn rename_rules_match_serde() {
        assert_eq!(rename("PlayerJoined", &rule("snake_case"), true).unwrap(), "player_joined");
        assert_eq!(rename("PlayerJoined", &rule("camelCase"), true).unwrap(), "playerJoined");
        assert_eq!(rename("PlayerJoined", &rule("kebab-case"), true).unwrap(), "player-joined");
        assert_eq!(rename("PlayerJoined", &rule("SCREAMING_SNAKE_CASE"), true).unwrap(), "PLAYER_JOINED");
        assert_eq!(rename("PlayerJoined", &rule("lowercase"), true).unwrap(), "playerjoined");
        assert_eq!(rename("user_id", &rule("camelCase"), false).unwrap(), "userId");
        assert_eq!(rename("user_id", &rule("PascalCase"), false).unwrap(), "UserId");
        assert_eq!(rename("user_id", &rule("SCREAMING-KEBAB-CASE"), false).unwrap(), "USER-ID");
        assert!(rename("x", &rule("Title Case"), false).is_err());
    }
}
