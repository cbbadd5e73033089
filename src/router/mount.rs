//! Turns the registrations collected by inventory plus the routers the user included into the
//! flat list of mounted routes, each with its full path. Pure data in, data out.

use std::collections::{HashMap, HashSet};

use super::{RouteError, Router};
use crate::{
    auth::Secured,
    route::{RouteDef, RouterDef, path},
};

/// A handler at its final path.
#[derive(Debug, Clone)]
pub(crate) struct Mounted {
    pub(crate) def: &'static RouteDef,
    /// The full path template, prefixes included: `/api/v1/items/<id>`.
    pub(crate) path: String,
    /// The authentication required before the handler runs.
    pub(crate) secured: Option<&'static Secured>,
}

struct Registry {
    routes: Vec<&'static RouteDef>,
    routers: Vec<&'static RouterDef>,
}

impl Registry {
    fn collect() -> Self {
        let mut routes: Vec<_> = inventory::iter::<RouteDef>.into_iter().collect();
        // inventory's order is unspecified: sort so the table (and any error) is deterministic.
        routes.sort_by_key(|d| (d.module, d.path, d.method, d.name));
        let mut routers: Vec<_> = inventory::iter::<RouterDef>.into_iter().collect();
        routers.sort_by_key(|d| d.module);
        Self { routes, routers }
    }

    /// The module router that owns `module`: the declaration in it or in its nearest ancestor.
    fn owner(&self, module: &str) -> Option<&'static str> {
        self.routers.iter().map(|r| r.module).filter(|m| is_within(module, m)).max_by_key(|m| m.len())
    }

    /// The module router a module router nests under by default.
    fn parent(&self, router_module: &str) -> Option<&'static str> {
        let parent = router_module.rsplit_once("::")?.0;
        self.owner(parent)
    }
}

fn is_within(module: &str, ancestor: &str) -> bool {
    module == ancestor || (module.starts_with(ancestor) && module[ancestor.len()..].starts_with("::"))
}

/// Mounts the whole table. With `auto`, every registered handler is served (under the
/// prefixes of the routers around it) unless a router that owns it was included explicitly.
pub(crate) fn mount(includes: &[Router], auto: bool) -> Result<Vec<Mounted>, RouteError> {
    let registry = Registry::collect();
    let mut explicit = HashSet::new();
    for router in includes {
        collect_explicit(router, &mut explicit)?;
    }
    let mut out = Vec::new();
    let ctx = Ctx { registry: &registry, explicit: &explicit };
    if auto {
        for def in registry.routes.iter().filter(|d| registry.owner(d.module).is_none()) {
            out.push(ctx.mounted(def, def.path, "", def.secured)?);
        }
        for child in ctx.auto_children(None) {
            ctx.mount_router(&Router::of_module(child), "", &mut out)?;
        }
    }
    for router in includes {
        ctx.mount_router(router, "", &mut out)?;
    }
    check_conflicts(&out)?;
    Ok(out)
}

fn collect_explicit(router: &Router, seen: &mut HashSet<&'static str>) -> Result<(), RouteError> {
    if let Some(module) = router.module
        && !seen.insert(module)
    {
        return Err(RouteError::IncludedTwice { module: module.to_string() });
    }
    router.includes.iter().try_for_each(|r| collect_explicit(r, seen))
}

struct Ctx<'a> {
    registry: &'a Registry,
    explicit: &'a HashSet<&'static str>,
}

impl Ctx<'_> {
    fn auto_children(&self, parent: Option<&str>) -> Vec<&'static str> {
        self.registry
            .routers
            .iter()
            .map(|r| r.module)
            .filter(|m| !self.explicit.contains(m) && self.registry.parent(m) == parent)
            .collect()
    }

    fn mount_router(&self, router: &Router, outer: &str, out: &mut Vec<Mounted>) -> Result<(), RouteError> {
        check_prefix(&router.prefix)?;
        let prefix = path::join(outer, &router.prefix);
        let prefix = if prefix == "/" { String::new() } else { prefix };
        if let Some(module) = router.module {
            let owned = self.registry.routes.iter().filter(|d| self.registry.owner(d.module) == Some(module));
            for def in owned {
                out.push(self.mounted(def, def.path, &prefix, def.secured)?);
            }
            for child in self.auto_children(Some(module)) {
                self.mount_router(&Router::of_module(child), &prefix, out)?;
            }
        }
        for (path, def, secured) in &router.routes {
            out.push(self.mounted(def, path, &prefix, *secured)?);
        }
        for child in &router.includes {
            self.mount_router(child, &prefix, out)?;
        }
        Ok(())
    }

    fn mounted(
        &self,
        def: &'static RouteDef,
        route_path: &str,
        prefix: &str,
        secured: Option<&'static Secured>,
    ) -> Result<Mounted, RouteError> {
        path::parse(route_path).map_err(|e| RouteError::BadPath {
            handler: def.qualified_name(),
            path: route_path.to_string(),
            reason: e.message,
        })?;
        Ok(Mounted { def, path: path::join(prefix, route_path), secured })
    }
}

fn check_prefix(prefix: &str) -> Result<(), RouteError> {
    if prefix.is_empty() || prefix == "/" {
        return Ok(());
    }
    let bad = |reason: String| RouteError::BadPrefix { prefix: prefix.to_string(), reason };
    let segments = path::parse(prefix).map_err(|e| bad(e.message))?;
    if !path::params(&segments).is_empty() {
        return Err(bad("a prefix is literal text and cannot hold parameters".to_string()));
    }
    Ok(())
}

fn check_conflicts(mounted: &[Mounted]) -> Result<(), RouteError> {
    let mut seen: HashMap<(&str, String), &Mounted> = HashMap::new();
    for m in mounted {
        // Paths were validated in `mounted`; a failure here cannot happen, skip rather than panic.
        let Ok(segments) = path::parse(&m.path) else { continue };
        let key = (m.def.method, path::shape(&segments));
        if let Some(first) = seen.insert(key, m) {
            return Err(RouteError::Conflict {
                method: m.def.method.to_string(),
                path: first.path.clone(),
                first: first.def.qualified_name(),
                first_location: first.def.location(),
                second: m.def.qualified_name(),
                second_location: m.def.location(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_within;

    #[test]
    fn module_nesting_is_by_whole_segments() {
        assert!(is_within("app::api", "app::api"));
        assert!(is_within("app::api::v1", "app::api"));
        assert!(!is_within("app::apis", "app::api"));
        assert!(!is_within("app", "app::api"));
    }
}
