//! `#[derive(Model)]`: the table, its columns (kinds from the field types) and the route
//! table of a live model. The handlers are generic functions in `sockeye::__private::live`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr, Type};

struct Field {
    ident: syn::Ident,
    name: String,
    kind: &'static str,
    nullable: bool,
    key: bool,
    defaulted: bool,
    write_only: bool,
    /// `Never`, `OnCreate` (`default = now`) or `OnWrite` (`on_update = now`).
    now: &'static str,
}

/// What a field's `#[model(..)]` attributes say.
#[derive(Default)]
struct ModelField {
    key: bool,
    /// `json` or `text`: how a type the derive does not know is stored.
    stored_as: Option<&'static str>,
    now: Option<&'static str>,
}

/// Reads a field's `#[model(..)]`.
fn model_field(attr: &syn::Attribute, out: &mut ModelField) -> syn::Result<()> {
    attr.parse_nested_meta(|meta| {
        let name = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        match name.as_str() {
            "primary_key" | "key" => out.key = true,
            "json" => out.stored_as = Some("Json"),
            "text" => out.stored_as = Some("Text"),
            "default" | "on_update" => {
                let value: syn::Ident = meta.value()?.parse()?;
                if value != "now" {
                    return Err(syn::Error::new(value.span(), format!("use #[model({name} = now)]")));
                }
                out.now = Some(if name == "default" && out.now != Some("OnWrite") { "OnCreate" } else { "OnWrite" });
            }
            _ => {
                return Err(meta.error(
                    "unknown field option: use #[model(primary_key)], #[model(json)], #[model(text)], \
                     #[model(default = now)] or #[model(on_update = now)]",
                ));
            }
        }
        Ok(())
    })
}

/// What a field's `#[serde(..)]` attributes say, as far as a live model cares.
#[derive(Default)]
struct SerdeField {
    defaulted: bool,
    write_only: bool,
    /// `with`, `serialize_with` or `deserialize_with`: the field has its own wire form.
    with: bool,
}

/// Reads a field's serde attributes: `default`, `skip_serializing` (write-only); refuses the
/// ones a column cannot honour, saying what to do instead.
fn serde_field(attr: &syn::Attribute, out: &mut SerdeField) -> syn::Result<()> {
    attr.parse_nested_meta(|meta| {
        let name = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        crate::schema::ignore(&meta)?; // what follows the name (`= ..` or `(..)`)
        match name.as_str() {
            "default" => out.defaulted = true,
            "skip_serializing" => out.write_only = true,
            "with" | "serialize_with" | "deserialize_with" => out.with = true,
            "rename" | "alias" => {
                return Err(
                    meta.error("a live model's JSON field names are its column names: serde renames are not supported")
                );
            }
            "skip" | "skip_deserializing" => {
                return Err(meta.error(
                    "a live model's fields are its columns, read from and written to request bodies: \
                     `skip` / `skip_deserializing` would lose the column's value. For a field clients \
                     must not see, use #[serde(skip_serializing)] (write-only: accepted in bodies, \
                     stored, never shown); keep computed values out of the model",
                ));
            }
            "flatten" => return Err(meta.error("a live model's fields are its columns: `flatten` is not supported")),
            _ => {}
        }
        Ok(())
    })
}

pub(crate) fn expand(input: TokenStream, p: &TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let ident = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&input.generics, "a live model cannot be generic"));
    }
    let mut table = snake_case(&ident.to_string());
    let mut table_span = ident.span();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                let lit: LitStr = meta.value()?.parse()?;
                table = lit.value();
                table_span = lit.span();
                Ok(())
            } else {
                Err(meta.error("unknown model option: use #[model(table = \"name\")]"))
            }
        })?;
    }
    check_name(&table, table_span, "table")?;
    if let Some(attr) =
        input.attrs.iter().find(|a| a.path().is_ident("serde") && quote!(#a).to_string().contains("rename"))
    {
        return Err(syn::Error::new_spanned(
            attr,
            "a live model's JSON field names are its column names: serde renames are not supported",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(ident.span(), "#[derive(Model)] goes on a struct with named fields"));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(ident.span(), "#[derive(Model)] goes on a struct with named fields"));
    };
    let mut fields = Vec::new();
    for f in &named.named {
        let Some(name) = f.ident.as_ref().map(|i| i.to_string().trim_start_matches("r#").to_string()) else {
            continue;
        };
        let mut model = ModelField::default();
        let mut serde = SerdeField::default();
        for attr in &f.attrs {
            if attr.path().is_ident("model") {
                model_field(attr, &mut model)?;
            } else if attr.path().is_ident("serde") {
                serde_field(attr, &mut serde)?;
            }
        }
        let key = model.key;
        check_name(&name, Span::call_site(), "column")?;
        let (kind, nullable) = match model.stored_as {
            Some(kind) => (kind, is_option(&f.ty)),
            None => kind(&f.ty)?,
        };
        if let Some(fix) = wire_form(&f.ty, kind, nullable).filter(|_| !serde.with) {
            return Err(syn::Error::new_spanned(&f.ty, fix));
        }
        let now = model.now.unwrap_or("Never");
        if now != "Never" && !matches!(kind, "TimestampTz" | "Timestamp" | "Date") {
            return Err(syn::Error::new_spanned(
                &f.ty,
                "`default = now` and `on_update = now` go on a timestamp or date field",
            ));
        }
        let ident = f.ident.clone().unwrap_or_else(|| syn::Ident::new(&name, Span::call_site()));
        if key && serde.write_only {
            return Err(syn::Error::new_spanned(
                &f.ident,
                "the primary key cannot be write-only: clients address rows by it",
            ));
        }
        fields.push(Field {
            ident,
            name,
            kind,
            nullable,
            key,
            defaulted: serde.defaulted || now != "Never",
            write_only: serde.write_only,
            now,
        });
    }
    if !fields.iter().any(|f| f.key) {
        match fields.iter_mut().find(|f| f.name == "id") {
            Some(id) => id.key = true,
            None => {
                return Err(syn::Error::new(
                    ident.span(),
                    "a live model needs a primary key: a field named `id`, or one marked #[model(primary_key)]",
                ));
            }
        }
    }
    if let Some(k) = fields.iter().find(|f| f.key && f.write_only) {
        return Err(syn::Error::new_spanned(
            &k.ident,
            "the primary key cannot be write-only: clients address rows by it",
        ));
    }
    if fields.iter().filter(|f| f.key).count() > 1 {
        return Err(syn::Error::new(ident.span(), "a live model has exactly one #[model(primary_key)] field"));
    }
    if let Some(k) = fields.iter().find(|f| f.key && (f.nullable || !matches!(f.kind, "Integer" | "Text" | "Uuid"))) {
        return Err(syn::Error::new(
            ident.span(),
            format!("the primary key `{}` must be an integer, a String or a Uuid, not optional", k.name),
        ));
    }
    let columns = fields.iter().map(|f| {
        let (name, kind, nullable, key) = (&f.name, syn::Ident::new(f.kind, Span::call_site()), f.nullable, f.key);
        let (defaulted, write_only) = (f.defaulted, f.write_only);
        let now = syn::Ident::new(f.now, Span::call_site());
        quote!(#p::live::Column {
            name: #name, kind: #p::live::Kind::#kind, nullable: #nullable, key: #key, defaulted: #defaulted,
            write_only: #write_only, now: #p::live::Now::#now,
        })
    });
    let write_only = fields.iter().filter(|f| f.write_only).map(|f| {
        let (ident, name) = (&f.ident, &f.name);
        quote!(#p::live::store_field(row, #name, &self.#ident);)
    });
    let write_only_fn = if fields.iter().any(|f| f.write_only) {
        quote! {
            fn write_only_fields(&self, row: &mut #p::serde_json::Map<::std::string::String, #p::serde_json::Value>) {
                #(#write_only)*
            }
        }
    } else {
        quote!()
    };
    let list = format!("/{table}");
    let item = format!("/{table}/{{id}}");
    let ws = format!("/ws/{table}");
    let name = ident.to_string();
    let route = |method: &str, path: &str, what: &str, handler: &str| {
        let handler = syn::Ident::new(handler, Span::call_site());
        let label = format!("{name}::{what}");
        let doc = format!("{what} `{table}` (live model {name})");
        quote!(#p::live::described_by(#p::def::new(
            #method, #path, #label, ::core::module_path!(), ::core::file!(), ::core::line!(), #doc,
            #p::live::#handler::<#ident>,
        ), &SCHEMA))
    };
    let routes = [
        route("GET", &list, "list", "list"),
        route("POST", &list, "create", "create"),
        route("GET", &item, "read", "read"),
        route("PUT", &item, "replace", "replace"),
        route("PATCH", &item, "patch", "patch"),
        route("DELETE", &item, "delete", "delete"),
    ];
    let socket = route("GET", &ws, "channel", "socket");
    Ok(quote! {
        const _: () = {
            static SCHEMA: #p::live::Schema =
                #p::live::Schema { table: #table, columns: &[#(#columns),*] };
            static ROUTES: [#p::RouteDef; 7] = [#(#routes,)* #p::def::websocket(#socket)];
            impl #p::live::Model for #ident {
                fn schema() -> &'static #p::live::Schema {
                    &SCHEMA
                }
                fn routes() -> &'static [#p::RouteDef] {
                    &ROUTES
                }
                #write_only_fn
            }
        };
    })
}

/// The column kind of a field type, and whether it is `Option<_>`. Types are known by
/// their last path segment (`chrono::DateTime<Utc>` and `DateTime<Utc>` alike).
fn kind(ty: &Type) -> syn::Result<(&'static str, bool)> {
    let unsupported = || {
        syn::Error::new_spanned(
            ty,
            "unsupported column type: use an integer, f64, bool, String, a chrono or time timestamp or date, \
             Uuid, Decimal / BigDecimal, serde_json::Value, Vec<u8> (bytes), or Option of one; mark a \
             serde enum stored as its name #[model(text)] and any other serde type stored as JSON #[model(json)]",
        )
    };
    let Some((last, inner)) = last_segment(ty) else { return Err(unsupported()) };
    if last == "Option" {
        let Some(inner) = inner else { return Err(unsupported()) };
        let (k, nullable) = kind(inner)?;
        if nullable {
            return Err(unsupported());
        }
        return Ok((k, true));
    }
    let k = match last.as_str() {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" => "Integer",
        "f32" | "f64" => "Real",
        "bool" => "Bool",
        "String" => "Text",
        "DateTime" | "OffsetDateTime" => "TimestampTz",
        "NaiveDateTime" | "PrimitiveDateTime" => "Timestamp",
        "NaiveDate" | "Date" => "Date",
        "Uuid" => "Uuid",
        "Decimal" | "BigDecimal" => "Decimal",
        "Vec" if inner.and_then(last_segment).is_some_and(|(t, _)| t == "u8") => "Bytes",
        "Value" | "Vec" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" => "Json",
        _ => return Err(unsupported()),
    };
    Ok((k, false))
}

fn is_option(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|(name, _)| name == "Option")
}

/// The last segment of a path type and its first type argument.
fn last_segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let inner = match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((last.ident.to_string(), inner))
}

/// The serde attribute a type needs to have the column's wire form, when its own serde form
/// is another: bytes are base64, timestamps RFC 3339.
fn wire_form(ty: &Type, kind: &str, nullable: bool) -> Option<String> {
    let inner = if nullable { last_segment(ty).and_then(|(_, i)| i)? } else { ty };
    let (name, _) = last_segment(inner)?;
    let option = if nullable { "::option" } else { "" };
    let with = match (kind, name.as_str()) {
        ("Bytes", _) => format!("sockeye::live::base64{option}"),
        (_, "OffsetDateTime") => format!("time::serde::rfc3339{option}"),
        (_, "PrimitiveDateTime") => {
            return Some(
                "time's PrimitiveDateTime is not written as `2025-01-31T09:30:00` by serde: give the field \
                 #[serde(with = ..)] a module of time::serde::format_description! with \
                 \"[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]\" (or use chrono's NaiveDateTime)"
                    .into(),
            );
        }
        _ => return None,
    };
    Some(format!(
        "this column is {} on the wire: add #[serde(with = \"{with}\")]",
        match kind {
            "Bytes" => "base64",
            _ => "an RFC 3339 timestamp",
        }
    ))
}

fn check_name(name: &str, span: Span, what: &str) -> syn::Result<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(syn::Error::new(
            span,
            format!("{what} name `{name}` must be letters, digits and _ (not starting with a digit)"),
        ))
    }
}

fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
