//! What an endpoint answers: a [`Reply`], or an [`ApiError`] in the contract's error shape
//! (`{"error":{"code","message",...}}`, CONTRACT.md §2) — bad input a 4xx with a message that is
//! not logged as an error, anything unexpected an opaque 500 whose cause goes to stderr.

use serde::Serialize;
use spin_sdk::http::Response;
use spincart_domain::validation::ValidationErrors;

use crate::db::DbError;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Extra members of the `error` object (`details`, `available`, ...).
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// The cause of a 500, logged, never sent.
    cause: Option<String>,
    /// Seconds for `Retry-After` (a 503 or 429).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            extra: serde_json::Map::new(),
            cause: None,
            retry_after: None,
        }
    }

    /// Adds a member to the error object.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extra.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        self
    }

    pub fn validation(errors: ValidationErrors) -> Self {
        let message = match errors.0.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => "The request is not valid.".to_owned(),
        };
        Self::new(400, "validation_failed", message).with("details", &errors.0)
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(ValidationErrors::one(field, message))
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found."))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
    }

    pub fn forbidden() -> Self {
        Self::new(403, "forbidden", "Admin role required.")
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    /// An unexpected failure: the client sees an opaque 500, the log gets the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(500, "internal_error", "Something went wrong on our side.")
        }
    }

    /// A dependency is down or has no capacity to spare (e.g. PostgreSQL out of connections):
    /// 503 with `Retry-After: 1`.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            retry_after: Some(1),
            ..Self::new(
                503,
                "service_unavailable",
                "A dependency is unavailable; try again shortly.",
            )
        }
    }

    pub(crate) fn into_error_reply(self) -> Reply {
        if let Some(cause) = &self.cause {
            eprintln!("error {}: {cause}", self.status);
        }
        let mut error = serde_json::Map::new();
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.into());
        error.extend(self.extra);
        let reply = Reply::json(self.status, &serde_json::json!({ "error": error }));
        match self.retry_after {
            Some(seconds) => reply.header("retry-after", seconds.to_string()),
            None => reply,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(_) => ApiError::unavailable(e),
            e => ApiError::internal(e),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::validation(e)
    }
}

impl From<crate::config::ConfigError> for ApiError {
    fn from(e: crate::config::ConfigError) -> Self {
        ApiError::internal(e)
    }
}

/// A successful response.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: Serialize + ?Sized>(status: u16, body: &T) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).expect("response serializes"),
        }
    }

    pub fn ok<T: Serialize + ?Sized>(body: &T) -> Self {
        Self::json(200, body)
    }

    pub fn created<T: Serialize + ?Sized>(body: &T) -> Self {
        Self::json(201, body)
    }

    pub fn accepted<T: Serialize + ?Sized>(body: &T) -> Self {
        Self::json(202, body)
    }

    pub fn no_content() -> Self {
        Reply {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// `Cache-Control: no-store`: a response that carries a credential (a token). No cache keeps
    /// it, and neither do idempotency records.
    pub fn no_store(self) -> Self {
        self.header("cache-control", "no-store")
    }

    /// Whether the response is marked `Cache-Control: no-store`.
    pub fn is_no_store(&self) -> bool {
        self.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("cache-control")
                && value
                    .split(',')
                    .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
        })
    }

    /// `ETag: "<version>"` for an optimistic-concurrency resource.
    pub fn etag(self, version: i64) -> Self {
        self.header("etag", format!("\"{version}\""))
    }

    pub(crate) fn into_response(self) -> Response {
        let mut builder = Response::builder();
        builder.status(self.status);
        for (name, value) in self.headers {
            builder.header(name, value);
        }
        builder.body(self.body).build()
    }
}
