//! `#[derive(JsonSchema)]`: reads a type's serde attributes into a `sockeye::docs::Shape`
//! (names as serde writes them, tagging, optional fields); the schema is built at run time by
//! ordinary tested code. Each field's schema comes from its type through the docs probe
//! (a `JsonSchema` impl, else its traced `Deserialize`, else any value).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, meta::ParseNestedMeta};

/// A rule or a name per direction: (serialize, deserialize).
type PerSide<T> = (Option<T>, Option<T>);

/// What serde's attributes on one item say, as far as the schema cares.
#[derive(Default)]
struct Serde {
    rename: PerSide<String>,
    rename_all: PerSide<(String, proc_macro2::Span)>,
    rename_all_fields: PerSide<(String, proc_macro2::Span)>,
    tag: Option<String>,
    content: Option<String>,
    untagged: bool,
    deny: bool,
    transparent: bool,
    skip_serializing: bool,
    skip_deserializing: bool,
    default: bool,
    skip_serializing_if: bool,
    flatten: bool,
    /// `with` / `serialize_with` / `deserialize_with`: that side is the function's (any value).
    with: (bool, bool),
    /// `from` / `try_from`: read as another type; `into`: written as another type.
    from: bool,
    into: bool,
    other: bool,
}

/// `= "x"` (both sides), or `(serialize = "a", deserialize = "b")`.
fn per_side(meta: &ParseNestedMeta) -> syn::Result<PerSide<(String, proc_macro2::Span)>> {
    if meta.input.peek(syn::Token![=]) {
        let lit = meta.value()?.parse::<LitStr>()?;
        return Ok((Some((lit.value(), lit.span())), Some((lit.value(), lit.span()))));
    }
    let (mut ser, mut de) = (None, None);
    meta.parse_nested_meta(|inner| {
        let lit = inner.value()?.parse::<LitStr>()?;
        if inner.path.is_ident("deserialize") {
            de = Some((lit.value(), lit.span()));
        } else if inner.path.is_ident("serialize") {
            ser = Some((lit.value(), lit.span()));
        }
        Ok(())
    })?;
    Ok((ser, de))
}

fn names_only(side: PerSide<(String, proc_macro2::Span)>) -> PerSide<String> {
    (side.0.map(|n| n.0), side.1.map(|n| n.0))
}

/// Consumes an option's value, whatever it is.
pub(crate) fn ignore(meta: &ParseNestedMeta) -> syn::Result<()> {
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
                "rename" => s.rename = names_only(per_side(&meta)?),
                "rename_all" => s.rename_all = per_side(&meta)?,
                "rename_all_fields" => s.rename_all_fields = per_side(&meta)?,
                "tag" => s.tag = Some(meta.value()?.parse::<LitStr>()?.value()),
                "content" => s.content = Some(meta.value()?.parse::<LitStr>()?.value()),
                "untagged" => s.untagged = true,
                "deny_unknown_fields" => s.deny = true,
                "transparent" => s.transparent = true,
                "flatten" => s.flatten = true,
                "other" => s.other = true,
                "skip" => (s.skip_serializing, s.skip_deserializing) = (true, true),
                "skip_serializing" => s.skip_serializing = true,
                "skip_deserializing" => s.skip_deserializing = true,
                "default" => {
                    s.default = true;
                    ignore(&meta)?;
                }
                "skip_serializing_if" => {
                    s.skip_serializing_if = true;
                    ignore(&meta)?;
                }
                "with" => {
                    s.with = (true, true);
                    ignore(&meta)?;
                }
                "serialize_with" => {
                    s.with.0 = true;
                    ignore(&meta)?;
                }
                "deserialize_with" => {
                    s.with.1 = true;
                    ignore(&meta)?;
                }
                "from" | "try_from" => {
                    s.from = true;
                    ignore(&meta)?;
                }
                "into" => {
                    s.into = true;
                    ignore(&meta)?;
                }
                _ => ignore(&meta)?,
            }
            Ok(())
        })?;
    }
    Ok(s)
}

/// serde's `rename_all` rules, applied as serde applies them: `variant` names are
/// PascalCase, field names snake_case.
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
        "lowercase" if variant => name.to_ascii_lowercase(),
        "UPPERCASE" if variant => name.to_ascii_uppercase(),
        // A field is snake_case already: `lowercase` keeps it, `UPPERCASE` shouts it.
        "lowercase" => name.to_string(),
        "UPPERCASE" => name.to_ascii_uppercase(),
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

/// The names serde reads and writes for `ident`: a rename, else the rule, else the ident;
/// none on a skipped side.
fn names(
    ident: &str,
    attrs: &Serde,
    rules: &PerSide<(String, proc_macro2::Span)>,
    variant: bool,
    p: &TokenStream,
) -> syn::Result<TokenStream> {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    let side = |rename: &Option<String>, rule: &Option<(String, proc_macro2::Span)>, skip: bool| {
        if skip {
            return Ok(quote!(::core::option::Option::None));
        }
        let name = match (rename, rule) {
            (Some(r), _) => r.clone(),
            (None, Some(rule)) => rename_rule(ident, rule, variant)?,
            (None, None) => ident.to_string(),
        };
        Ok::<_, syn::Error>(quote!(::core::option::Option::Some(#name)))
    };
    let write = side(&attrs.rename.0, &rules.0, attrs.skip_serializing)?;
    let read = side(&attrs.rename.1, &rules.1, attrs.skip_deserializing || attrs.other)?;
    Ok(quote!(#p::docs::Names { read: #read, write: #write }))
}

fn rename_rule(ident: &str, rule: &(String, proc_macro2::Span), variant: bool) -> syn::Result<String> {
    rename(ident, rule, variant)
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

/// Whether a type may borrow (a reference or a lifetime in it).
fn borrows(ty: &syn::Type) -> bool {
    let text = quote!(#ty).to_string();
    text.contains('&') || text.contains('\'')
}

/// A `fn(Direction) -> Value` for `ty`'s schema through the docs probe: its `JsonSchema`,
/// else its traced `Deserialize` (not for borrowing types, which cannot be traced), else any
/// value; any value on a side a `with` function handles.
fn schema_fn(ty: &syn::Type, with: (bool, bool), p: &TokenStream) -> TokenStream {
    let traced = if borrows(ty) { quote!() } else { quote!(TracedSchema as _,) };
    let (with_write, with_read) = with;
    let opaque = if with_read || with_write {
        quote! {
            if #p::docs::handled_by_with(__d, #with_read, #with_write) {
                return #p::serde_json::Value::Object(::core::default::Default::default());
            }
        }
    } else {
        quote!()
    };
    quote! {
        |__d: #p::docs::Direction| {
            #[allow(unused_imports)]
            use #p::docs::{AnySchema as _, KnownSchema as _, #traced};
            #opaque
            (&&&#p::docs::Probe::<#ty>::new()).field_schema(__d)
        }
    }
}

fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// The body of a struct or a variant: its fields, renamed by `rules`.
fn body(
    fields: &Fields,
    rules: &PerSide<(String, proc_macro2::Span)>,
    deny: bool,
    all_default: bool,
    p: &TokenStream,
) -> syn::Result<TokenStream> {
    Ok(match fields {
        Fields::Unit => quote!(#p::docs::Body::Unit),
        Fields::Unnamed(u) if u.unnamed.len() == 1 => {
            let f = schema_fn(&u.unnamed[0].ty, serde(&u.unnamed[0].attrs)?.with, p);
            quote!(#p::docs::Body::Newtype(#f))
        }
        Fields::Unnamed(u) => {
            let mut fs = Vec::new();
            for f in &u.unnamed {
                fs.push(schema_fn(&f.ty, serde(&f.attrs)?.with, p));
            }
            quote!(#p::docs::Body::Tuple(
                ::std::vec![#((#fs) as fn(#p::docs::Direction) -> #p::serde_json::Value),*]
            ))
        }
        Fields::Named(n) => {
            let mut out = Vec::new();
            for f in &n.named {
                let s = serde(&f.attrs)?;
                let ident = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
                let names = names(&ident, &s, rules, false, p)?;
                // serde reads a missing `Option` as `None`, unless a `with` function reads it.
                let optional = is_option(&f.ty) && !s.with.1;
                let read_required = !(s.default || all_default || optional);
                // A flattened `None` writes nothing.
                let write_required = !(s.skip_serializing_if || (s.flatten && is_option(&f.ty)));
                let (flatten, d, schema) = (s.flatten, doc(&f.attrs), schema_fn(&f.ty, s.with, p));
                out.push(quote! {
                    #p::docs::Field {
                        names: #names, doc: #d, read_required: #read_required, write_required: #write_required,
                        flatten: #flatten, schema: #schema,
                    }
                });
            }
            quote!(#p::docs::Body::Struct { fields: ::std::vec![#(#out),*], deny: #deny })
        }
    })
}

pub(crate) fn expand(input: TokenStream, p: &TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let container = serde(&input.attrs)?;
    let ident = &input.ident;
    let ident_text = ident.to_string();
    let ident_text = ident_text.strip_prefix("r#").unwrap_or(&ident_text).to_string();
    let name = container.rename.0.clone().unwrap_or_else(|| ident_text.clone());
    let type_doc = doc(&input.attrs);
    let body = match &input.data {
        Data::Struct(data) if container.transparent => {
            let mut inner = quote!(#p::docs::Body::Unit);
            for f in &data.fields {
                let s = serde(&f.attrs)?;
                if !(s.skip_serializing && s.skip_deserializing) {
                    let f = schema_fn(&f.ty, s.with, p);
                    inner = quote!(#p::docs::Body::Newtype(#f));
                    break;
                }
            }
            inner
        }
        Data::Struct(data) => body(&data.fields, &container.rename_all, container.deny, container.default, p)?,
        Data::Enum(data) => {
            let tagging = match (&container.tag, &container.content, container.untagged) {
                (_, _, true) => quote!(#p::docs::Tagging::Untagged),
                (Some(t), Some(c), _) => quote!(#p::docs::Tagging::Adjacent(#t, #c)),
                (Some(t), None, _) => quote!(#p::docs::Tagging::Internal(#t)),
                (None, _, _) => quote!(#p::docs::Tagging::External),
            };
            let mut variants = Vec::new();
            for v in &data.variants {
                let s = serde(&v.attrs)?;
                let names = names(&v.ident.to_string(), &s, &container.rename_all, true, p)?;
                let rules = if s.rename_all.0.is_some() || s.rename_all.1.is_some() {
                    &s.rename_all
                } else {
                    &container.rename_all_fields
                };
                let vbody = body(&v.fields, rules, container.deny, false, p)?;
                let (d, untagged) = (doc(&v.attrs), s.untagged);
                variants.push(quote! {
                    #p::docs::Variant { names: #names, doc: #d, untagged: #untagged, body: #vbody }
                });
            }
            quote!(#p::docs::Body::Enum { tagging: #tagging, variants: ::std::vec![#(#variants),*] })
        }
        Data::Union(u) => {
            return Err(syn::Error::new(u.union_token.span, "#[derive(JsonSchema)] goes on a struct or an enum"));
        }
    };
    let struct_tag = match (&input.data, &container.tag) {
        (Data::Struct(_), Some(tag)) => quote!(::core::option::Option::Some(#tag)),
        _ => quote!(::core::option::Option::None),
    };
    let (read_as_other, write_as_other) = (container.from, container.into);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #p::docs::JsonSchema for #ident #ty_generics #where_clause {
            fn shape() -> ::core::option::Option<#p::docs::Shape> {
                ::core::option::Option::Some(#p::docs::Shape {
                    name: #name,
                    doc: #type_doc,
                    struct_tag: #struct_tag,
                    read_as_other: #read_as_other,
                    write_as_other: #write_as_other,
                    body: #body,
                })
            }
        }
    })
}

/// The name serde reads a struct field by: its `rename`, else the container's `rename_all`
/// rule, else the field's name.
pub(crate) fn read_name(container: &[Attribute], field: &syn::Ident, attrs: &[Attribute]) -> syn::Result<String> {
    let ident = field.to_string();
    let ident = ident.strip_prefix("r#").unwrap_or(&ident).to_string();
    let (container, attrs) = (serde(container)?, serde(attrs)?);
    Ok(match (&attrs.rename.1, &container.rename_all.1) {
        (Some(r), _) => r.clone(),
        (None, Some(rule)) => rename(&ident, rule, false)?,
        (None, None) => ident,
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
        assert_eq!(rename("user_id", &rule("lowercase"), false).unwrap(), "user_id");
        assert_eq!(rename("user_id", &rule("UPPERCASE"), false).unwrap(), "USER_ID");
        assert_eq!(rename("HTTPError", &rule("snake_case"), true).unwrap(), "h_t_t_p_error");
        assert_eq!(rename("Player2Joined", &rule("snake_case"), true).unwrap(), "player2_joined");
        assert!(rename("x", &rule("Title Case"), false).is_err());
    }
}
