//! A resolver runs the REST endpoint's own use case: [`Call`] builds the request Spin would
//! have passed to that endpoint's component (route parameters, query, JSON body, the caller's
//! headers, `Idempotency-Key`, `If-Match`) and hands it to [`spincart_platform::http::call`].
//! So every rule, error and idempotency behaviour lives in one place, and an error's
//! `extensions.code` is the REST error code.

use async_graphql::{ErrorExtensionValues, Value};
use serde::de::DeserializeOwned;
use spin_sdk::http::{Method, Request};
use spincart_platform::http::{ApiError, Ctx, Reply};

/// The headers of the `/graphql` request that the use cases read: the caller's token, the
/// client's request id (logged beside the server's own), the client's address as the runtime
/// set it (the login and registration throttles) and `Cache-Control` (the cart cache).
pub const FORWARDED_HEADERS: [&str; 4] = [
    "authorization",
    "x-request-id",
    "spin-client-addr",
    "cache-control",
];

/// The forwarded headers of the request being answered, kept in the schema's request data.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub headers: Vec<(String, String)>,
}

/// One use case to run.
pub struct Call {
    method: Method,
    path: String,
    params: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    headers: Vec<(String, String)>,
    body: Option<serde_json::Value>,
}

impl Call {
    fn new(method: Method, path: impl Into<String>) -> Self {
        Call {
            method,
            path: path.into(),
            params: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::Post, path)
    }
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::Put, path)
    }
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::Patch, path)
    }
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::Delete, path)
    }

    /// A `:name` segment of the route (Spin's `spin-path-match-<name>` header).
    pub fn param(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }

    /// A query-string parameter, when given.
    pub fn query(mut self, name: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The mutation's `Idempotency-Key`, when given.
    pub fn idempotency_key(mut self, key: Option<String>) -> Self {
        if let Some(key) = key {
            self.headers.push(("idempotency-key".into(), key));
        }
        self
    }

    /// `If-Match: "<version>"`, when given.
    pub fn if_match(mut self, version: Option<i64>) -> Self {
        if let Some(version) = version {
            self.headers
                .push(("if-match".into(), format!("\"{version}\"")));
        }
        self
    }

    /// Runs `use_case` and decodes its JSON answer; an error answer becomes a GraphQL error
    /// whose `extensions` are the REST error object's members (`code`, `details`, ...).
    pub fn run<T: DeserializeOwned>(
        self,
        caller: &Caller,
        use_case: impl Fn(&Ctx) -> Result<Reply, ApiError>,
    ) -> async_graphql::Result<T> {
        let reply =
            spincart_platform::http::call(self.request(caller), use_case).map_err(api_error)?;
        if reply.status >= 400 {
            return Err(error_reply(&reply));
        }
        serde_json::from_slice(&reply.body).map_err(|e| {
            eprintln!("graphql: a use case's answer did not decode: {e}");
            error(
                500,
                "internal",
                "Something went wrong.",
                &Default::default(),
            )
        })
    }

    fn request(self, caller: &Caller) -> Request {
        let mut uri = self.path;
        if !self.query.is_empty() {
            let query = form_urlencoded(&self.query);
            uri = format!("{uri}?{query}");
        }
        let mut builder = Request::builder();
        builder.method(self.method).uri(uri);
        for (name, value) in &caller.headers {
            builder.header(name.clone(), value.clone());
        }
        for (name, value) in self.params {
            builder.header(format!("spin-path-match-{}", name.replace('_', "-")), value);
        }
        for (name, value) in self.headers {
            builder.header(name, value);
        }
        match self.body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).unwrap_or_default())
                .build(),
            None => builder.body(Vec::new()).build(),
        }
    }
}

fn form_urlencoded(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        for b in value.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out
}

/// A GraphQL error with the REST error's code and members in `extensions`.
pub fn error(
    status: u16,
    code: &str,
    message: &str,
    extra: &serde_json::Map<String, serde_json::Value>,
) -> async_graphql::Error {
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    extensions.set("status", i32::from(status));
    for (key, value) in extra {
        extensions.set(
            key.as_str(),
            Value::from_json(value.clone()).unwrap_or(Value::Null),
        );
    }
    let mut error = async_graphql::Error::new(message);
    error.extensions = Some(extensions);
    error
}

/// A use case's error as a GraphQL error.
pub fn api_error(e: ApiError) -> async_graphql::Error {
    if e.status >= 500 {
        eprintln!("graphql: {} {}", e.code, e.message);
    }
    error(e.status, &e.code, &e.message, &e.extra)
}

/// An error answer (`{"error":{"code","message",...}}`) as a GraphQL error.
fn error_reply(reply: &Reply) -> async_graphql::Error {
    let parsed: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_object()).cloned());
    let Some(mut object) = parsed else {
        return error(
            reply.status,
            "internal",
            "Something went wrong.",
            &Default::default(),
        );
    };
    let code = object
        .remove("code")
        .and_then(|c| c.as_str().map(str::to_owned))
        .unwrap_or_else(|| "internal".into());
    let message = object
        .remove("message")
        .and_then(|m| m.as_str().map(str::to_owned))
        .unwrap_or_default();
    error(reply.status, &code, &message, &object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        let pairs = [
            ("q", "red shoes & more".to_owned()),
            ("page", "2".to_owned()),
        ];
        assert_eq!(form_urlencoded(&pairs), "q=red%20shoes%20%26%20more&page=2");
    }

    #[test]
    fn an_error_answer_keeps_its_code_and_members_in_extensions() {
        let reply = Reply::json(
            409,
            &serde_json::json!({"error": {"code": "insufficient_stock", "message": "Only 2 left.", "available": 2}}),
        );
        let error = error_reply(&reply);
        assert_eq!(error.message, "Only 2 left.");
        let extensions = error.extensions.expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&Value::from("insufficient_stock"))
        );
        assert_eq!(extensions.get("available"), Some(&Value::from(2)));
        assert_eq!(extensions.get("status"), Some(&Value::from(409)));
    }
}
