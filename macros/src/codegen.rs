//! Quotes a validated [`Route`]: the user's item unchanged, plus a small wrapper that extracts
//! each argument and an `inventory` registration. All logic lives in `sockeye::__private`,
//! which is ordinary tested Rust.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::parse::{Arg, ArgKind, Kind, Route, Target, WsOptions};

fn extraction(i: usize, arg: &Arg, p: &TokenStream) -> TokenStream {
    let var = format_ident!("__arg{}", i);
    let ty = &arg.ty;
    let helper = match &arg.kind {
        ArgKind::Path { tail: false, .. } => "path_param",
        ArgKind::Path { tail: true, .. } => "tail_param",
        ArgKind::Query { list: true, .. } => "query_param_list",
        ArgKind::Query { optional: false, .. } => "query_param",
        ArgKind::Query { optional: true, .. } => "query_param_opt",
        ArgKind::Header { optional: false, .. } => "header_param",
        ArgKind::Header { optional: true, .. } => "header_param_opt",
        ArgKind::Extract => "extract",
        ArgKind::Auto { optional: false, .. } => "arg",
        ArgKind::Auto { optional: true, .. } => "arg_opt",
    };
    // Every token of the call is spanned on the user's type, so a missing `FromStr` or
    // extractor impl underlines the type rather than the attribute.
    let helper = format_ident!("{}", helper, span = ty.span());
    let at_ty = crate::respan(p, ty.span());
    let call = match &arg.kind {
        ArgKind::Path { index, name, .. } => {
            quote_spanned!(ty.span()=> #at_ty::#helper::<#ty>(&__req, #index, #name))
        }
        ArgKind::Query { name, .. } | ArgKind::Header { name, .. } => {
            quote_spanned!(ty.span()=> #at_ty::#helper::<#ty>(&__req, #name))
        }
        ArgKind::Extract => quote_spanned!(ty.span()=> #at_ty::#helper::<#ty>(&__req, &mut __body).await),
        // Which of extractor / query parameter the type is, the type checker decides (see
        // `sockeye::__private::ArgProbe`); a type that is neither is an error at the name.
        ArgKind::Auto { name, .. } => {
            let helper = format_ident!("{}", helper, span = arg.span);
            let p = crate::respan(p, arg.span);
            // A parameter is there at once; only an extractor's (boxed) future is awaited.
            quote_spanned! {arg.span=> {
                #[allow(unused_imports)]
                use #p::{ByExtractor as _, ByParam as _, Neither as _};
                match (&&&#p::ArgProbe::<#ty>::new()).#helper(&__req, &mut __body, #name) {
                    #p::ArgValue::Ready(value) => value,
                    #p::ArgValue::Pending(future) => future.await,
                }
            }}
        }
    };
    let check = checks(i, arg, p);
    quote! {
        let #var = match #call {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(response) => return ::core::convert::From::from(response),
        };
        #check
    }
}

/// The static holding argument `i`'s declared constraints, when it has some.
fn constraints_static(i: usize, arg: &Arg, p: &TokenStream) -> Option<(syn::Ident, TokenStream)> {
    let c = arg.constraints.as_ref()?;
    let name = format_ident!("__SOCKEYE_CONSTRAINTS_{}", i);
    let statik = c.to_static(&name, p);
    Some((name, statik))
}

/// After extraction: a body type's own checks (`Validate`), or a parameter's constraints.
fn checks(i: usize, arg: &Arg, p: &TokenStream) -> TokenStream {
    let var = format_ident!("__arg{}", i);
    match &arg.kind {
        ArgKind::Extract | ArgKind::Auto { .. } => {
            let full = &arg.full_ty;
            quote! {
                if let ::core::result::Result::Err(response) = {
                    #[allow(unused_imports)]
                    use #p::{NoValidation as _, ValidateArg as _};
                    (&&#p::docs::Probe::<#full>::new()).validate_arg(&#var)
                } {
                    return ::core::convert::From::from(response);
                }
            }
        }
        ArgKind::Path { name, .. } | ArgKind::Query { name, .. } | ArgKind::Header { name, .. } => {
            let Some(c) = &arg.constraints else { return quote!() };
            let Some((statik, _)) = constraints_static(i, arg, p) else { return quote!() };
            let location = match &arg.kind {
                ArgKind::Path { .. } => "path",
                ArgKind::Query { .. } => "query",
                _ => "header",
            };
            let calls = c.checks(&statik, &arg.full_ty, quote!(&#var), quote!(&__loc), quote!(&mut __errors));
            quote! {
                {
                    let __loc = [
                        <#p::serde_json::Value as ::core::convert::From<&str>>::from(#location),
                        <#p::serde_json::Value as ::core::convert::From<&str>>::from(#name),
                    ];
                    let mut __errors = ::std::vec::Vec::new();
                    #calls
                    if let ::core::result::Result::Err(response) =
                        #p::param_errors(&__req, #location, #name, __errors)
                    {
                        return ::core::convert::From::from(response);
                    }
                }
            }
        }
    }
}

/// The body shared by every kind: split the request, extract each argument, then `call`.
fn extract_then(route: &Route, call: TokenStream, p: &TokenStream) -> TokenStream {
    let extractions = route.args.iter().enumerate().map(|(i, a)| extraction(i, a, p));
    // A long-lived handler (a WebSocket) should not keep the whole request alive: when no
    // argument can borrow from it (no reference or lifetime in any argument type), drop it.
    let release =
        if route.args.iter().any(|a| borrows(&a.ty)) { quote!() } else { quote!(::core::mem::drop((__req, __body));) };
    // Split before the future is made: it then holds the request once, not twice.
    quote! {
        let (__req, mut __body) = __request.split();
        ::std::boxed::Box::pin(async move {
            let _ = &mut __body;
            #(#extractions)*
            #release
            #call
        })
    }
}

/// Whether a type may borrow: it holds a reference or a lifetime anywhere.
fn borrows(ty: &syn::Type) -> bool {
    let text = quote!(#ty).to_string();
    text.contains('&') || text.contains('\'')
}

fn opt(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v as _)),
        None => quote!(::core::option::Option::None),
    }
}

fn ws_options(o: &WsOptions, p: &TokenStream) -> TokenStream {
    let (m, pi, pt, it, q, r) = (
        opt(o.max_message_size),
        opt(o.ping_interval),
        opt(o.pong_timeout),
        opt(o.idle_timeout),
        opt(o.max_queue),
        opt(o.rate_limit),
    );
    let invalid = match o.close_on_invalid {
        Some(true) => quote!(::core::option::Option::Some(#p::ws::InvalidMessage::Close)),
        Some(false) => quote!(::core::option::Option::Some(#p::ws::InvalidMessage::Reply)),
        None => quote!(::core::option::Option::None),
    };
    let client_id = o.client_id;
    quote! {
        #p::WsRouteOptions {
            max_message_size: #m, ping_interval: #pi, pong_timeout: #pt, idle_timeout: #it, max_queue: #q,
            invalid_message: #invalid, rate_limit: #r, client_id: #client_id,
        }
    }
}

/// The `T` of a `Json<T>`, looking through `Result<_, _>` and `Created<_>` (by name: the
/// macro sees syntax only), and whether a `Created` was on the way.
fn json_inner(ty: &syn::Type) -> Option<(&syn::Type, bool)> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let syn::GenericArgument::Type(first) = args.args.first()? else { return None };
    match last.ident.to_string().as_str() {
        "Json" => Some((first, false)),
        "Result" => json_inner(first),
        "Created" => json_inner(first).map(|(t, _)| (t, true)),
        _ => None,
    }
}

/// For a `Json<T>` body (`answer` false) or answer: `T`'s schema through the probe (its
/// `JsonSchema` derive first, which also covers `Serialize`-only types and internally tagged
/// enums), replacing the traced one.
fn json_schema_of(ty: &syn::Type, answer: bool, p: &TokenStream) -> TokenStream {
    let Some((inner, created)) = json_inner(ty) else { return quote!() };
    let traced = if borrows(inner) { quote!() } else { quote!(TracedSchema as _,) };
    let (direction, set) = if answer {
        (quote!(Write), quote!(response_schema(__op, #created, __schema)))
    } else {
        (quote!(Read), quote!(body_schema(__op, __schema)))
    };
    quote! {{
        #[allow(unused_imports)]
        use #p::docs::{AnySchema as _, KnownSchema as _, #traced};
        let __schema = (&&&#p::docs::Probe::<#inner>::new())
            .field_schema(#p::docs::Direction::#direction);
        #p::docs::build::#set;
    }}
}

/// The route's `describe` function: its parameters and documented extractors, for the docs.
fn describe(route: &Route, p: &TokenStream) -> TokenStream {
    let lines = route.args.iter().enumerate().map(|(i, arg)| {
        let ty = &arg.ty;
        let schema = quote!({
            #[allow(unused_imports)]
            use #p::docs::{KnownParam as _, UnknownParam as _};
            (&&#p::docs::Probe::<#ty>::new()).schema()
        });
        let schema = match (&arg.kind, constraints_static(i, arg, p)) {
            (ArgKind::Query { list: true, .. }, _) => quote!(#p::docs::build::list(#schema)),
            (_, Some((statik, _))) => quote!({ let mut __s = #schema; #statik.document(&mut __s); __s }),
            _ => schema,
        };
        let extractor = || {
            let full = &arg.full_ty;
            let body = json_schema_of(full, false, p);
            quote! {{
                #[allow(unused_imports)]
                use #p::docs::{DocumentedArg as _, OtherArg as _};
                (&&#p::docs::Probe::<#full>::new()).document(__op);
                #body
                #[allow(unused_imports)]
                use #p::{NoValidation as _, ValidateArg as _};
                (&&#p::docs::Probe::<#full>::new()).document_constraints(__op);
            }}
        };
        match &arg.kind {
            ArgKind::Path { name, .. } => quote!(#p::docs::build::path(__op, #name, #schema);),
            ArgKind::Query { name, optional, list } => {
                let required = !optional && !list;
                quote!(#p::docs::build::query(__op, #name, #required, #schema);)
            }
            ArgKind::Header { name, optional } => {
                quote!(#p::docs::build::header(__op, #name, !#optional, #schema);)
            }
            ArgKind::Extract => extractor(),
            ArgKind::Auto { name, optional } => {
                let documented = extractor();
                quote! {{
                    #[allow(unused_imports)]
                    use #p::{ByExtractor as _, ByParam as _, Neither as _};
                    if (&&&#p::ArgProbe::<#ty>::new()).is_query() {
                        #p::docs::build::query(__op, #name, !#optional, #schema);
                    } else #documented
                }}
            }
        }
    });
    // What a success answers, from an HTTP handler function's return type.
    let answer = match (&route.kind, &route.target) {
        (Kind::Http, Target::Fn(f)) => match &f.sig.output {
            syn::ReturnType::Type(_, ty) => {
                let schema = json_schema_of(ty, true, p);
                quote! {{
                    #[allow(unused_imports)]
                    use #p::docs::{KnownAnswer as _, UnknownAnswer as _};
                    (&&#p::docs::Probe::<#ty>::new()).answer(__op);
                    #schema
                }}
            }
            syn::ReturnType::Default => quote!(),
        },
        _ => quote!(),
    };
    quote! {
        fn __sockeye_describe(__op: &mut #p::docs::Operation) {
            let _ = &__op;
            #(#lines)*
            #answer
        }
    }
}

pub(crate) fn route(route: &Route, p: &TokenStream) -> TokenStream {
    let name = route.target.ident();
    let method = &route.method;
    let path = &route.path;
    let doc = &route.doc;
    let vars: Vec<_> = (0..route.args.len()).map(|i| format_ident!("__arg{}", i)).collect();
    let (item, call, consumer) = match &route.target {
        Target::Fn(func) => {
            let ident = &func.sig.ident;
            let span = match &func.sig.output {
                syn::ReturnType::Default => ident.span(),
                syn::ReturnType::Type(_, ty) => ty.span(),
            };
            let at = crate::respan(p, span);
            let respond = match route.kind {
                Kind::Http => quote_spanned!(span=> #at::respond(#ident(#(#vars),*).await)),
                Kind::WebSocket(_) => quote_spanned!(span=> #at::ws_outcome(#ident(#(#vars),*).await)),
            };
            (quote!(#func), respond, quote!())
        }
        Target::Consumer { item, socket, has_disconnect, connect_on_self, connected } => {
            let ty = &item.self_ty;
            // The loop is `run_consumer`'s: the expansion only connects, then hands over. A
            // socket `receive` does not take is an error at `connect`'s return type.
            let run = crate::respan(p, *connected);
            let call = if *connect_on_self {
                quote_spanned! {*connected=>
                    let mut __state = <#ty as ::core::default::Default>::default();
                    let __connected = <#ty>::connect(&mut __state, #(#vars),*).await;
                    #run::ws::run_consumer_on::<#ty>(__state, __connected).await
                }
            } else {
                quote_spanned!(*connected=> #run::ws::run_consumer::<#ty>(<#ty>::connect(#(#vars),*).await).await)
            };
            // The type's methods, as `run_consumer` calls them.
            let on_close = if *has_disconnect {
                quote! {
                    async fn on_close(
                        &mut self,
                        __socket: &Self::Socket,
                        __frame: ::core::option::Option<#p::ws::CloseFrame>,
                    ) {
                        <#ty>::disconnect(self, __socket, __frame).await;
                    }
                }
            } else {
                quote!()
            };
            let consumer = quote! {
                impl #p::ws::Consumer for #ty {
                    type Socket = #socket;
                    async fn on_message(
                        &mut self,
                        __socket: &Self::Socket,
                        __msg: <Self::Socket as #p::ws::ConsumerSocket>::Item,
                    ) -> ::core::result::Result<(), #p::Error> {
                        #p::IntoWsResult::into_ws_result(<#ty>::receive(self, __socket, __msg).await)
                    }
                    #on_close
                }
            };
            (quote!(#item), call, consumer)
        }
    };
    let secured_static = match &route.secured {
        Some(s) => {
            let (roles, scopes) = (&s.roles, &s.scopes);
            quote! {
                static __SOCKEYE_SECURED: #p::Secured = #p::Secured::new(&[#(#roles),*], &[#(#scopes),*]);
            }
        }
        None => quote!(),
    };
    let new = quote! {
        #p::def::new(
            #method, #path, #name, ::core::module_path!(), ::core::file!(), ::core::line!(), #doc,
            __sockeye_handler,
        )
    };
    let describe_fn = describe(route, p);
    let statics = route.args.iter().enumerate().filter_map(|(i, a)| constraints_static(i, a, p)).map(|(_, s)| s);
    let statics = quote!(#(#statics)*);
    let (items, registration) = match &route.kind {
        Kind::Http => {
            let body = extract_then(route, call, p);
            let items = quote! {
                #statics
                fn __sockeye_handler(__request: #p::Request) -> #p::HandlerFuture {
                    #body
                }
                #secured_static
                #describe_fn
            };
            let registration = quote!(#p::def::describe(#new, __sockeye_describe));
            (items, registration)
        }
        Kind::WebSocket(options) => {
            let body = extract_then(route, call, p);
            let options = ws_options(options, p);
            let items = quote! {
                #statics
                #consumer
                fn __sockeye_run(__request: #p::Request) -> #p::WsRunFuture {
                    #body
                }
                static __SOCKEYE_WS_OPTIONS: #p::WsRouteOptions = #options;
                fn __sockeye_handler(__request: #p::Request) -> #p::HandlerFuture {
                    #p::websocket(__request, &__SOCKEYE_WS_OPTIONS, __sockeye_run)
                }
                #secured_static
                #describe_fn
            };
            let registration = quote!(#p::def::describe(#p::def::websocket(#new), __sockeye_describe));
            (items, registration)
        }
    };
    let registration = match &route.secured {
        Some(_) => quote!(#p::def::secured(#registration, &__SOCKEYE_SECURED)),
        None => registration,
    };
    match &route.def {
        // Collected for `App::new`, which mounts it under its module's routers.
        None => quote! {
            #item

            const _: () = {
                #items
                #p::inventory::submit! { #registration }
            };
        },
        // A static of its own, mounted where a router routes it.
        Some(def) => {
            // The item's visibility and documentation (an impl block's: private to the module).
            let (vis, attrs) = match &route.target {
                Target::Fn(func) => (func.vis.clone(), func.attrs.as_slice()),
                Target::Consumer { item, .. } => (syn::Visibility::Inherited, item.attrs.as_slice()),
            };
            let docs = attrs.iter().filter(|a| a.path().is_ident("doc"));
            let doc = format!(" The route of `{name}`, to mount with `Router::route`.");
            quote! {
                #item

                #(#docs)*
                #[doc = ""]
                #[doc = #doc]
                #vis static #def: #p::RouteDef = {
                    #items
                    #registration
                };
            }
        }
    }
}
