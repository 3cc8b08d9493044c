//! # spincart-files
//!
//! Serving a single-page app's built files (Vite's `dist/`) from a directory — in the storefront
//! component, the `files` mount at `/`. Plain Rust on `std::fs`, so it is unit-tested on the host.
//!
//! * `GET` and `HEAD`; anything else is a 405 with `Allow: GET, HEAD`;
//! * a content type by extension (`charset=utf-8` on text), `X-Content-Type-Options: nosniff`;
//! * a strict [`CONTENT_SECURITY_POLICY`] on every answer (scripts, styles, data and frames from
//!   the app's own origin only; nobody may frame it), with `X-Frame-Options: DENY` and
//!   `Referrer-Policy: no-referrer` for older browsers and outgoing links;
//! * `/assets/…` (content-hashed names) are `public, max-age=31536000, immutable`, everything
//!   else `no-cache`; a strong `ETag` from the content, `If-None-Match` → 304;
//! * a missing path whose last segment has no extension (`/orders/123`) is the app's route:
//!   `index.html`; a missing file (`/assets/gone.js`) is a 404 in the API's error shape;
//! * paths under [`Site::api_prefixes`] are never the app's: a miss there is the plain empty 404
//!   an unrouted request gets;
//! * `..`, `.`, backslashes and encoded slashes are refused (400) before the file system is
//!   touched (see [`path`]).
//!
//! ```no_run
//! use spincart_files::{Request, Site};
//!
//! let site = Site { root: "/".as_ref(), api_prefixes: &["api"] };
//! let response = site.serve(&Request { method: "GET", path: "/orders/42", if_none_match: None });
//! assert_eq!(response.status, 200); // index.html
//! ```

#![deny(unsafe_code)]

pub mod path;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use path::{InvalidPath, SitePath};

/// The app's entry page, answered for its client-side routes.
pub const INDEX: &str = "index.html";
/// `Cache-Control` of content-hashed files.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: always revalidate (cheap, with the `ETag`).
pub const NO_CACHE: &str = "no-cache";

/// A directory of built files.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// Where the files are (`/` in the component: the `files` mount).
    pub root: &'a Path,
    /// First path segments that belong to the API (`api`): no SPA fallback under them.
    pub api_prefixes: &'a [&'a str],
}

/// What the site needs of a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The request target's path (a query is ignored), still percent-encoded.
    pub path: &'a str,
    pub if_none_match: Option<&'a str>,
}

/// The answer: status, headers (lower-case names) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// An error in the API's shape: `{"error":{"code","message"}}`.
    fn error(status: u16, code: &str, message: &str) -> Response {
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        Response {
            status,
            headers: [
                ("content-type", "application/json".into()),
                ("cache-control", NO_CACHE.into()),
            ]
            .into_iter()
            .chain(hardening())
            .collect(),
            body: body.to_string().into_bytes(),
        }
    }
}

impl Site<'_> {
    pub fn serve(&self, request: &Request) -> Response {
        let head = match request.method {
            "GET" => false,
            "HEAD" => true,
            _ => {
                let mut response =
                    Response::error(405, "method_not_allowed", "Use one of: GET, HEAD.");
                response.headers.push(("allow", "GET, HEAD".into()));
                return response;
            }
        };
        let Ok(path) = SitePath::parse(request.path) else {
            return Response::error(400, "invalid_path", "The path is not valid.");
        };
        let segments = path.segments();
        let immutable = segments.first().is_some_and(|s| s == "assets");
        let file = segments
            .iter()
            .fold(self.root.to_path_buf(), |p, s| p.join(s));
        let found = match read_file(&file) {
            Ok(Some(content)) => Some((content, immutable)),
            Ok(None) => match read_file(&file.join(INDEX)) {
                Ok(Some(content)) => Some((content, false)),
                Ok(None) => None,
                Err(e) => return internal(&file, e),
            },
            Err(e) => return internal(&file, e),
        };
        let (content, immutable) = match found {
            Some(found) => found,
            None if segments
                .first()
                .is_some_and(|s| self.api_prefixes.contains(&s.as_str())) =>
            {
                return Response {
                    status: 404,
                    headers: Vec::new(),
                    body: Vec::new(),
                };
            }
            None if path.has_extension() => {
                return Response::error(404, "not_found", "File not found.")
            }
            None => match read_file(&self.root.join(INDEX)) {
                Ok(Some(index)) => (index, false),
                Ok(None) => return Response::error(404, "not_found", "File not found."),
                Err(e) => return internal(self.root, e),
            },
        };
        content.respond(immutable, head, request.if_none_match)
    }
}

/// A file's name and bytes.
struct File {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// The storefront's policy: everything from its own origin (the built app has no inline script or
/// style), images also as `data:` URLs, no plugins, no `<base>`, forms only to itself, and no
/// framing by anyone (clickjacking). An injected `<script>` cannot run, nor send what it reads
/// anywhere but the app's own API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every answer of the site carries.
fn hardening() -> [(&'static str, String); 4] {
    [
        ("x-content-type-options", "nosniff".into()),
        ("content-security-policy", CONTENT_SECURITY_POLICY.into()),
        ("x-frame-options", "DENY".into()),
        ("referrer-policy", "no-referrer".into()),
    ]
}

impl File {
    fn respond(self, immutable: bool, head: bool, if_none_match: Option<&str>) -> Response {
        let etag = etag(&self.bytes);
        let cache_control = if immutable { IMMUTABLE } else { NO_CACHE };
        if if_none_match.is_some_and(|header| none_match_matches(header, &etag)) {
            return Response {
                status: 304,
                headers: vec![("etag", etag), ("cache-control", cache_control.into())],
                body: Vec::new(),
            };
        }
        let content_type = content_type(&self.path);
        Response {
            status: 200,
            headers: [
                ("content-type", content_type.into()),
                ("cache-control", cache_control.into()),
                ("etag", etag),
            ]
            .into_iter()
            .chain(hardening())
            .collect(),
            body: if head { Vec::new() } else { self.bytes },
        }
    }
}

/// The file's bytes; `None` when there is no regular file there.
fn read_file(path: &Path) -> std::io::Result<Option<File>> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(File {
            path: path.to_path_buf(),
            bytes,
        })),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_missing(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory)
        || e.raw_os_error() == Some(20) // ENOTDIR where the kind is not mapped
}

fn internal(path: &Path, e: std::io::Error) -> Response {
    eprintln!("error 500: reading {path:?}: {e}");
    Response::error(500, "internal_error", "Something went wrong on our side.")
}

/// A strong validator from the content: the same bytes give the same tag on every replica.
pub fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// `If-None-Match` uses the weak comparison: `W/"x"` matches `"x"`; `*` matches any.
fn none_match_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// The `Content-Type` for a file name.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json; charset=utf-8",
        Some("webmanifest") => "application/manifest+json; charset=utf-8",
        Some("svg") => "image/svg+xml; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site directory with `index.html`, `assets/app-abc123.js`, `favicon.ico` and
    /// `docs/index.html`; removed on drop.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new(name: &str) -> Fixture {
            let dir = std::env::temp_dir().join(format!(
                "spincart-files-{name}-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
            ));
            for (path, text) in [
                ("index.html", "<!doctype html><title>spincart</title>"),
                ("assets/app-abc123.js", "console.log(1)"),
                ("favicon.ico", "ico"),
                ("docs/index.html", "<p>docs</p>"),
            ] {
                let path = dir.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            Fixture(dir)
        }

        fn get(&self, path: &str) -> Response {
            self.send("GET", path, None)
        }

        fn send(&self, method: &str, path: &str, if_none_match: Option<&str>) -> Response {
            Site {
                root: &self.0,
                api_prefixes: &["api"],
            }
            .serve(&Request {
                method,
                path,
                if_none_match,
            })
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const INDEX_HTML: &[u8] = b"<!doctype html><title>spincart</title>";

    #[test]
    fn the_root_is_index_html_revalidated_every_time() {
        let site = Fixture::new("root");
        let index = site.get("/");
        assert_eq!(index.status, 200);
        assert_eq!(index.body, INDEX_HTML);
        assert_eq!(
            index.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(index.header("cache-control"), Some(NO_CACHE));
        assert_eq!(index.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(index.header("etag"), Some(etag(INDEX_HTML).as_str()));
        let policy = index.header("content-security-policy").unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("script-src 'self';"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(index.header("x-frame-options"), Some("DENY"));
        assert_eq!(site.get("/index.html").body, INDEX_HTML);
    }

    #[test]
    fn assets_are_immutable_with_their_content_type() {
        let site = Fixture::new("assets");
        let asset = site.get("/assets/app-abc123.js?v=1");
        assert_eq!(asset.status, 200);
        assert_eq!(asset.body, b"console.log(1)");
        assert_eq!(
            asset.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(asset.header("cache-control"), Some(IMMUTABLE));
        let icon = site.get("/favicon.ico");
        assert_eq!(icon.header("content-type"), Some("image/x-icon"));
        assert_eq!(icon.header("cache-control"), Some(NO_CACHE));
    }

    #[test]
    fn client_side_routes_are_answered_with_index_html() {
        let site = Fixture::new("spa");
        for path in ["/orders/123", "/admin/sagas", "/orders/123/", "/assets"] {
            let page = site.get(path);
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(page.body, INDEX_HTML, "{path}");
            assert_eq!(page.header("cache-control"), Some(NO_CACHE), "{path}");
            assert_eq!(
                page.header("content-type"),
                Some("text/html; charset=utf-8")
            );
        }
        assert_eq!(site.get("/docs").body, b"<p>docs</p>");
    }

    #[test]
    fn a_missing_file_is_a_404_in_the_api_error_shape() {
        let site = Fixture::new("missing");
        for path in ["/assets/missing.js", "/nope.css", "/index.html/x.js"] {
            let missing = site.get(path);
            assert_eq!(missing.status, 404, "{path}");
            let body: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
            assert_eq!(body["error"]["code"], "not_found");
            assert!(body["error"]["message"].is_string());
            assert_eq!(missing.header("content-type"), Some("application/json"));
        }
    }

    #[test]
    fn api_paths_are_never_the_apps() {
        let site = Fixture::new("api");
        let missing = site.get("/api/v1/nothing-here");
        assert_eq!((missing.status, missing.body.len()), (404, 0));
    }

    #[test]
    fn traversal_is_refused_before_the_file_system() {
        let site = Fixture::new("traversal");
        for path in [
            "/../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/..%5cx",
            "/a\\..\\b",
        ] {
            let refused = site.get(path);
            assert_eq!(refused.status, 400, "{path}");
        }
    }

    #[test]
    fn head_has_the_headers_and_no_body() {
        let site = Fixture::new("head");
        let head = site.send("HEAD", "/", None);
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(head.header("etag"), Some(etag(INDEX_HTML).as_str()));
        assert_eq!(site.send("HEAD", "/orders/1", None).status, 200);
    }

    #[test]
    fn a_matching_if_none_match_is_a_304() {
        let site = Fixture::new("etag");
        let tag = site
            .get("/assets/app-abc123.js")
            .header("etag")
            .unwrap()
            .to_owned();
        for header in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"x\", {tag}"),
            "*".into(),
        ] {
            let cached = site.send("GET", "/assets/app-abc123.js", Some(&header));
            assert_eq!(cached.status, 304, "{header}");
            assert!(cached.body.is_empty());
            assert_eq!(cached.header("etag"), Some(tag.as_str()));
            assert_eq!(cached.header("cache-control"), Some(IMMUTABLE));
        }
        let stale = site.send("GET", "/assets/app-abc123.js", Some("\"other\""));
        assert_eq!(stale.status, 200);
    }

    #[test]
    fn other_methods_are_a_405_naming_get_and_head() {
        let site = Fixture::new("methods");
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let refused = site.send(method, "/", None);
            assert_eq!(refused.status, 405);
            assert_eq!(refused.header("allow"), Some("GET, HEAD"));
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        for (name, expected) in [
            ("a.html", "text/html; charset=utf-8"),
            ("a.mjs", "text/javascript; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.json", "application/json; charset=utf-8"),
            ("a.js.map", "application/json; charset=utf-8"),
            ("a.svg", "image/svg+xml; charset=utf-8"),
            ("a.PNG", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.webp", "image/webp"),
            ("a.woff2", "font/woff2"),
            ("robots.txt", "text/plain; charset=utf-8"),
            (
                "site.webmanifest",
                "application/manifest+json; charset=utf-8",
            ),
            ("blob.bin", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(name)), expected, "{name}");
        }
    }
}
