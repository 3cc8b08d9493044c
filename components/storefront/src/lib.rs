//! `GET|HEAD /...` — the storefront's built files from the `files` mount at `/`
//! (`storefront/dist` in spin.toml), with the single-page app's fallback to `index.html`.
//! More specific routes (`/api/v1/…`, `/health`, `/metrics`) win over `/...` in Spin's router.

use spin_sdk::http::{Request, Response};
use spincart_files::Site;

/// The mount, and the API's prefix: an unknown `/api/…` path stays the router's empty 404.
fn site() -> Site<'static> {
    Site {
        root: std::path::Path::new("/"),
        api_prefixes: &["api"],
    }
}

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    let header = |name: &str| request.header(name).and_then(|v| v.as_str());
    // The route is `/...`, so what it matched (`spin-path-info`) is the whole path.
    let path = header("spin-path-info")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(request.path());
    let method = request.method().to_string();
    let reply = site().serve(&spincart_files::Request {
        method: &method,
        path,
        if_none_match: header("if-none-match"),
    });
    let mut response = Response::builder();
    response.status(reply.status);
    for (name, value) in reply.headers {
        response.header(name, value);
    }
    response.body(reply.body).build()
}
