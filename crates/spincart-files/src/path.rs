//! A request path, checked once: the segments of a file inside the site's directory.

/// A request path that names nothing inside the site: `..`/`.` segments (raw or
/// percent-encoded), backslashes, NUL or other control characters, an encoded `/`, a bad
/// percent-escape or non-UTF-8 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPath;

/// The decoded, non-empty segments of a request path (`/assets/app%20x.js?v=1` →
/// `["assets", "app x.js"]`); `/` and `//` have none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePath(Vec<String>);

impl SitePath {
    /// Parses the path of a request target (a query or fragment is ignored).
    pub fn parse(raw: &str) -> Result<SitePath, InvalidPath> {
        let path = raw.split(['?', '#']).next().unwrap_or_default();
        if !path.starts_with('/') {
            return Err(InvalidPath);
        }
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(decode_segment)
            .collect::<Result<Vec<_>, _>>()
            .map(SitePath)
    }

    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Whether the last segment has an extension (`app.js`, not `orders` nor `.hidden`).
    pub fn has_extension(&self) -> bool {
        self.0
            .last()
            .and_then(|last| last.rsplit_once('.'))
            .is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty())
    }
}

fn decode_segment(raw: &str) -> Result<String, InvalidPath> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(InvalidPath)?;
            let hex = std::str::from_utf8(hex).map_err(|_| InvalidPath)?;
            decoded.push(u8::from_str_radix(hex, 16).map_err(|_| InvalidPath)?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let segment = String::from_utf8(decoded).map_err(|_| InvalidPath)?;
    let unsafe_char = |c: char| c == '/' || c == '\\' || c.is_control();
    if segment == "." || segment == ".." || segment.contains(unsafe_char) {
        return Err(InvalidPath);
    }
    Ok(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(raw: &str) -> Vec<String> {
        SitePath::parse(raw).unwrap().0
    }

    #[test]
    fn splits_and_decodes_segments_ignoring_the_query() {
        assert_eq!(segments("/"), Vec::<String>::new());
        assert_eq!(segments("//"), Vec::<String>::new());
        assert_eq!(segments("/assets/app-1.js?v=2#x"), ["assets", "app-1.js"]);
        assert_eq!(segments("/a%20b/c%2Ejs"), ["a b", "c.js"]);
        assert_eq!(segments("/orders/123/"), ["orders", "123"]);
    }

    #[test]
    fn refuses_whatever_could_leave_the_directory() {
        for raw in [
            "/..",
            "/../etc/passwd",
            "/assets/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/.%2e/x",
            "/./index.html",
            "/..%5c..%5cetc",
            "/a\\..\\b",
            "/a%00.html",
            "/%zz",
            "/%2",
            "/%ff",
            "index.html",
            "",
        ] {
            assert_eq!(SitePath::parse(raw), Err(InvalidPath), "{raw}");
        }
    }

    #[test]
    fn a_double_encoded_dot_dot_is_just_a_name() {
        assert_eq!(segments("/%252e%252e/x"), ["%2e%2e", "x"]);
    }

    #[test]
    fn knows_whether_the_last_segment_has_an_extension() {
        let has = |raw: &str| SitePath::parse(raw).unwrap().has_extension();
        assert!(has("/assets/app.js"));
        assert!(has("/favicon.ico"));
        assert!(!has("/orders/123"));
        assert!(!has("/admin/sagas"));
        assert!(!has("/"));
        assert!(!has("/.well-known"));
        assert!(!has("/trailing."));
    }
}
