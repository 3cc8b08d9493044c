//! HTTP route matching with Spin's rules (Spin uses the `routefinder` crate):
//!
//! * routes are exact (`/health`), have `:name` segments (`/carts/:id`) or end in a `/...`
//!   wildcard (`/static/...`);
//! * the first segment in which two routes differ decides: exact beats `:param` beats wildcard;
//!   when all shared segments are alike the shorter route wins; equal shapes keep manifest order;
//! * leading and trailing slashes of the request path are ignored; matching is on the raw path.

use std::cmp::Ordering;

/// One routable entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The route exactly as written in the manifest (`spin-raw-component-route`).
    pub raw: String,
    /// The route with the base `/` applied (`spin-matched-route`): `""` for `/`.
    pub based: String,
    pub component: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Exact(String),
    Param(String),
    Wildcard,
}

impl Segment {
    fn rank(&self) -> u8 {
        match self {
            Segment::Exact(_) => 0,
            Segment::Param(_) => 1,
            Segment::Wildcard => 2,
        }
    }
}

/// A request path matched to a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    pub route: &'a Route,
    /// `:name` segments and their values, in route order.
    pub params: Vec<(String, String)>,
    /// What the trailing wildcard matched (`spin-path-info`), `""` for other routes.
    pub path_info: String,
}

impl Route {
    pub fn parse(raw: &str, component: &str) -> anyhow::Result<Route> {
        let absolute = if raw.starts_with('/') {
            raw.to_owned()
        } else {
            format!("/{raw}")
        };
        let based = absolute.strip_suffix('/').unwrap_or(&absolute).to_owned();
        let (body, wildcard) = if let Some(prefix) = based.strip_suffix("/...") {
            (prefix.to_owned(), true)
        } else if based == "/..." {
            (String::new(), true)
        } else if let Some(prefix) = based.strip_suffix("/*") {
            (prefix.to_owned(), true)
        } else {
            (based.clone(), false)
        };
        let mut segments = Vec::new();
        for segment in body.split('/').filter(|s| !s.is_empty()) {
            if let Some(name) = segment.strip_prefix(':') {
                anyhow::ensure!(
                    !name.is_empty(),
                    "Error parsing route {based} associated with component {component}: params must be named"
                );
                segments.push(Segment::Param(name.to_owned()));
            } else if segment == "..." || segment.contains('*') {
                anyhow::bail!(
                    "Error parsing route {based} associated with component {component}: a wildcard may only end a route"
                );
            } else {
                segments.push(Segment::Exact(segment.to_owned()));
            }
        }
        if wildcard {
            segments.push(Segment::Wildcard);
        }
        Ok(Route {
            raw: raw.to_owned(),
            based,
            component: component.to_owned(),
            segments,
        })
    }

    /// The raw route without its trailing `/...` (`spin-component-route`).
    pub fn component_route(&self) -> &str {
        self.raw.strip_suffix("/...").unwrap_or(&self.raw)
    }

    fn matches<'a>(&'a self, path: &str) -> Option<RouteMatch<'a>> {
        let trimmed = path.trim_start_matches('/').trim_end_matches('/');
        let mut rest = trimmed;
        let mut params = Vec::new();
        let mut wildcard = None;
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                if matches!(segment, Segment::Wildcard) && rest.is_empty() {
                    wildcard = Some(String::new());
                    break;
                }
                rest = rest.strip_prefix('/')?;
            }
            match segment {
                Segment::Exact(text) => {
                    rest = rest.strip_prefix(text.as_str())?;
                    if !(rest.is_empty() || rest.starts_with('/')) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let end = rest.find('/').unwrap_or(rest.len());
                    if end == 0 {
                        return None;
                    }
                    params.push((name.clone(), rest[..end].to_owned()));
                    rest = &rest[end..];
                }
                Segment::Wildcard => {
                    wildcard = Some(rest.to_owned());
                    rest = "";
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        let path_info = match wildcard {
            None => String::new(),
            Some(s) => match (s.is_empty(), path.ends_with('/')) {
                (true, false) => s,
                (true, true) => "/".to_owned(),
                (false, false) => format!("/{s}"),
                (false, true) => format!("/{s}/"),
            },
        };
        Some(RouteMatch {
            route: self,
            params,
            path_info,
        })
    }
}

fn precedence(a: &Route, b: &Route) -> Ordering {
    a.segments
        .iter()
        .zip(&b.segments)
        .map(|(x, y)| x.rank().cmp(&y.rank()))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or_else(|| a.segments.len().cmp(&b.segments.len()))
}

/// The app's routes in matching order.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Builds the router; returns it with the routes that duplicate an earlier one (the later
    /// definition wins, as in Spin).
    pub fn build(routes: Vec<Route>) -> (Router, Vec<(Route, String)>) {
        let mut unique: Vec<Route> = Vec::new();
        let mut duplicates = Vec::new();
        for route in routes {
            if let Some(existing) = unique.iter_mut().find(|r| r.raw == route.raw) {
                duplicates.push((existing.clone(), route.component.clone()));
                *existing = route;
            } else {
                unique.push(route);
            }
        }
        unique.sort_by(precedence);
        (Router { routes: unique }, duplicates)
    }

    pub fn route<'a>(&'a self, path: &str) -> Option<RouteMatch<'a>> {
        self.routes.iter().find_map(|r| r.matches(path))
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router {
        Router::build(
            routes
                .iter()
                .map(|r| Route::parse(r, &format!("c{r}")).unwrap())
                .collect(),
        )
        .0
    }

    fn matched(router: &Router, path: &str) -> Option<(String, String)> {
        router
            .route(path)
            .map(|m| (m.route.raw.clone(), m.path_info.clone()))
    }

    #[test]
    fn exact_routes_ignore_trailing_and_leading_slashes() {
        let r = router(&["/hello", "/"]);
        assert_eq!(matched(&r, "/hello/").unwrap().0, "/hello");
        assert_eq!(matched(&r, "//hello").unwrap().0, "/hello");
        assert_eq!(matched(&r, "/").unwrap().0, "/");
        assert_eq!(matched(&r, "/other"), None);
    }

    #[test]
    fn params_capture_one_non_empty_segment() {
        let r = router(&["/users/:id"]);
        let m = r.route("/users/42/").unwrap();
        assert_eq!(m.params, vec![("id".into(), "42".into())]);
        assert!(r.route("/users/").is_none());
        assert!(r.route("/users/42/x").is_none());
    }

    #[test]
    fn a_wildcard_takes_the_rest_as_path_info() {
        let r = router(&["/static/..."]);
        assert_eq!(matched(&r, "/static/a/b").unwrap().1, "/a/b");
        assert_eq!(matched(&r, "/static").unwrap().1, "");
        assert_eq!(matched(&r, "/static/").unwrap().1, "/");
        assert_eq!(matched(&r, "/static/a/").unwrap().1, "/a/");
        assert_eq!(matched(&r, "/staticky"), None);
    }

    #[test]
    fn the_leftmost_differing_segment_decides_not_the_longest_match() {
        let r = router(&["/:x/b", "/a/..."]);
        assert_eq!(matched(&r, "/a/b").unwrap().0, "/a/...");
        let r = router(&["/a/...", "/a/:y", "/a/b/..."]);
        assert_eq!(matched(&r, "/a/x").unwrap().0, "/a/:y");
        assert_eq!(matched(&r, "/a/b").unwrap().0, "/a/b/...");
    }

    #[test]
    fn exact_beats_param_beats_wildcard() {
        let r = router(&["/...", "/users/:id", "/users/admin", "/users/:id/..."]);
        assert_eq!(matched(&r, "/users/admin").unwrap().0, "/users/admin");
        assert_eq!(matched(&r, "/users/7").unwrap().0, "/users/:id");
        assert_eq!(matched(&r, "/users/7/orders").unwrap().0, "/users/:id/...");
        assert_eq!(
            matched(&r, "/x/y/z").unwrap(),
            ("/...".into(), "/x/y/z".into())
        );
    }

    #[test]
    fn routes_of_the_same_shape_keep_manifest_order() {
        let r = router(&["/foo/:id", "/foo/:name"]);
        assert_eq!(r.route("/foo/1").unwrap().params[0].0, "id");
    }

    #[test]
    fn a_duplicate_route_goes_to_the_last_component_and_is_reported() {
        let routes = vec![
            Route::parse("/a", "first").unwrap(),
            Route::parse("/a", "second").unwrap(),
        ];
        let (r, dups) = Router::build(routes);
        assert_eq!(r.route("/a").unwrap().route.component, "second");
        assert_eq!(dups.len(), 1);
    }

    #[test]
    fn based_and_component_routes_are_what_spin_reports() {
        let root = Route::parse("/", "c").unwrap();
        assert_eq!(root.based, "");
        let wild = Route::parse("/foo/:userid/...", "c").unwrap();
        assert_eq!(wild.based, "/foo/:userid/...");
        assert_eq!(wild.component_route(), "/foo/:userid");
        assert_eq!(Route::parse("/...", "c").unwrap().component_route(), "");
    }

    #[test]
    fn a_wildcard_in_the_middle_is_refused() {
        assert!(Route::parse("/a/.../b", "c").is_err());
        assert!(Route::parse("/a/:", "c").is_err());
    }
}
