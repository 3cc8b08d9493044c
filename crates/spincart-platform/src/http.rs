//! spincart's HTTP conventions (CONTRACT.md §2), in one place:
//!
//! * errors are `{"error":{"code","message",...}}` with a 4xx/5xx; bad input is a 400
//!   `validation_failed` with field details and is not logged as an error; anything unexpected
//!   is an opaque 500 whose cause goes to the component's stderr;
//! * JSON in and out; unknown fields and wrong types are refused with the failing field named;
//! * `Idempotency-Key` on POST/PUT/PATCH/DELETE (see [`crate::idempotency`]);
//! * each component serves one route and lists the methods it answers; others get 405.
//!
//! ```no_run
//! use spin_sdk::http::{IncomingRequest, Response};
//! use spincart_platform::http::{serve, Endpoint, Reply};
//!
//! #[spin_sdk::http_component]
//! async fn handle(request: IncomingRequest) -> Response {
//!     serve(request, &[Endpoint::get(|_ctx| Ok(Reply::json(200, &"hello")))]).await
//! }
//! # fn main() {}
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;
use spin_sdk::http::{IncomingRequest, Method, Request, Response};
use spincart_domain::auth::{self, Caller, Role, TokenError};
use spincart_domain::ids::UserId;
use spincart_domain::validation::{FieldError, ValidationErrors};

pub use crate::reply::{ApiError, Reply};

/// A request handler: the request in, a reply or an error out.
type Handler<'h> = Box<dyn Fn(&Ctx) -> Result<Reply, ApiError> + 'h>;

/// One method of a component's route and its handler.
pub struct Endpoint<'h> {
    method: Method,
    handler: Handler<'h>,
}

impl<'h> Endpoint<'h> {
    pub fn new(method: Method, handler: impl Fn(&Ctx) -> Result<Reply, ApiError> + 'h) -> Self {
        Endpoint {
            method,
            handler: Box::new(handler),
        }
    }
    pub fn get(handler: impl Fn(&Ctx) -> Result<Reply, ApiError> + 'h) -> Self {
        Self::new(Method::Get, handler)
    }
    pub fn post(handler: impl Fn(&Ctx) -> Result<Reply, ApiError> + 'h) -> Self {
        Self::new(Method::Post, handler)
    }
    pub fn put(handler: impl Fn(&Ctx) -> Result<Reply, ApiError> + 'h) -> Self {
        Self::new(Method::Put, handler)
    }
    pub fn patch(handler: impl Fn(&Ctx) -> Result<Reply, ApiError> + 'h) -> Self {
        Self::new(Method::Patch, handler)
    }
    pub fn delete(handler: impl Fn(&Ctx) -> Result<Reply, ApiError> + 'h) -> Self {
        Self::new(Method::Delete, handler)
    }
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Patch => "PATCH".into(),
        Method::Delete => "DELETE".into(),
        Method::Head => "HEAD".into(),
        Method::Options => "OPTIONS".into(),
        Method::Connect => "CONNECT".into(),
        Method::Trace => "TRACE".into(),
        Method::Other(other) => other.clone(),
    }
}

/// The largest request body any endpoint accepts (1 MiB); a larger one is refused with 413
/// `payload_too_large` before it is parsed — by its `Content-Length` without reading it at all,
/// or, for a body sent without one, as soon as what was read passes the limit.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Answers `request` with the endpoint for its method (405 with `Allow` when there is none),
/// reading its body up to [`MAX_BODY_BYTES`] and applying the `Idempotency-Key` rules to
/// mutations.
pub async fn serve(request: IncomingRequest, endpoints: &[Endpoint<'_>]) -> Response {
    // Records the request's duration and flushes its metrics to Redis when it ends.
    let _timer = crate::metrics::RequestTimer::start(&component_route(&request), "http");
    let method = request.method();
    let Some(endpoint) = endpoints.iter().find(|e| e.method == method) else {
        let allow = endpoints
            .iter()
            .map(|e| method_name(&e.method))
            .collect::<Vec<_>>()
            .join(", ");
        return ApiError::new(405, "method_not_allowed", format!("Use one of: {allow}."))
            .into_error_reply()
            .header("allow", allow)
            .into_response();
    };
    let request = match read_within_limit(request, MAX_BODY_BYTES).await {
        Ok(request) => request,
        Err(error) => return error.into_error_reply().into_response(),
    };
    dispatch(request, &endpoint.handler)
        .unwrap_or_else(ApiError::into_error_reply)
        .into_response()
}

/// The route of the component serving `request` as `spin.toml` names it, from the
/// `spin-component-route` header Spin passes (`/api/v1/carts/:id`; `/` for `/...`): the
/// request metrics' low-cardinality `component` label, never the raw path. The last value is
/// the runtime's (Spin appends its headers after a client's): a client cannot invent labels.
fn component_route(request: &IncomingRequest) -> String {
    let route = request
        .headers()
        .entries()
        .into_iter()
        .rfind(|(name, _)| name.eq_ignore_ascii_case("spin-component-route"))
        .map(|(_, value)| String::from_utf8_lossy(&value).into_owned());
    match route {
        Some(route) if route.is_empty() => "/".into(),
        Some(route) => route,
        None => "unknown".into(),
    }
}

/// Runs an endpoint's use case for a request made inside a component — the GraphQL gateway's
/// resolvers — under the same rules as [`serve`]: the request carries what Spin would pass
/// (route parameters as `spin-path-match-<name>` headers, the caller's `Authorization`), NUL is
/// refused, and a mutation runs under its `Idempotency-Key`. An error may come back as `Err` or,
/// when the idempotency rules stored it, as a [`Reply`] with a 4xx status.
pub fn call(
    request: Request,
    handler: impl Fn(&Ctx) -> Result<Reply, ApiError>,
) -> Result<Reply, ApiError> {
    if request.body().len() > MAX_BODY_BYTES {
        return Err(payload_too_large(MAX_BODY_BYTES));
    }
    dispatch(request, &handler)
}

/// The shared part of [`serve`] and [`call`]: a request whose body has been read, to its reply.
fn dispatch(
    request: Request,
    handler: &dyn Fn(&Ctx) -> Result<Reply, ApiError>,
) -> Result<Reply, ApiError> {
    if let Some(error) = nul_in_input(&request) {
        return Err(error);
    }
    let method = request.method().clone();
    let ctx = Ctx::new(request);
    if matches!(
        method,
        Method::Post | Method::Put | Method::Patch | Method::Delete
    ) {
        let caller = ctx.caller().ok().map(|c| c.user_id.to_string());
        let method = ctx.method();
        let mutation = crate::idempotency::Mutation {
            key: ctx.header("idempotency-key"),
            caller: caller.as_deref(),
            method: &method,
            path: ctx.path(),
            query: ctx.request().query(),
            body: ctx.request().body(),
        };
        crate::idempotency::run(mutation, || handler(&ctx))
    } else {
        handler(&ctx)
    }
}

/// 413 `payload_too_large`, naming the limit.
fn payload_too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        "payload_too_large",
        format!("The request body is larger than {limit} bytes."),
    )
    .with("limit_bytes", limit)
}

/// The request with its body read, refused with 413 `payload_too_large` past
/// [`MAX_BODY_BYTES`] (for a component that answers without [`serve`]).
pub async fn read_request(request: IncomingRequest) -> Result<Request, ApiError> {
    read_within_limit(request, MAX_BODY_BYTES).await
}

/// How much of an oversized body is read and thrown away before the 413 is sent, so that the
/// client, still sending, gets to read the answer instead of a reset connection.
const DISCARD_AT_MOST: usize = 32 << 20;

/// The request with its body read, unless the body is larger than `limit`: then a 413, decided
/// by the `Content-Length` before a byte is kept, or — for a body sent without one — as soon as
/// what was read passes the limit. The rest of an oversized body is read and discarded (up to
/// [`DISCARD_AT_MOST`]), never buffered or parsed.
async fn read_within_limit(request: IncomingRequest, limit: usize) -> Result<Request, ApiError> {
    let headers: Vec<(String, Vec<u8>)> = request.headers().entries();
    let declared = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| std::str::from_utf8(value).ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let mut builder = Request::builder();
    builder.method(request.method()).uri(request.uri());
    // In order: a later value replaces an earlier one, so a `spin-*` header keeps the value the
    // runtime appended after any copy the client sent.
    for (name, value) in &headers {
        builder.header(name.clone(), String::from_utf8_lossy(value).into_owned());
    }
    let mut too_large = declared.is_some_and(|length| length > limit as u64);
    let mut body = Vec::new();
    let mut seen = 0usize;
    let mut stream = request.into_body_stream();
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                400,
                "bad_request",
                format!("The request body could not be read: {e:?}."),
            )
        })?;
        seen += chunk.len();
        too_large |= seen > limit;
        if too_large {
            body = Vec::new();
            if seen > DISCARD_AT_MOST {
                break;
            }
        } else {
            body.extend_from_slice(&chunk);
        }
    }
    if too_large {
        return Err(payload_too_large(limit));
    }
    Ok(builder.body(body).build())
}

/// U+0000 (NUL) anywhere in the query or in a JSON body's strings: PostgreSQL text cannot hold
/// it, so it is refused up front with a 400 naming where it was (CONTRACT: text never contains
/// NUL), before any handler or idempotency key sees the request.
fn nul_in_input(request: &Request) -> Option<ApiError> {
    const MESSAGE: &str = "must not contain the NUL character (U+0000)";
    for (name, value) in form_urlencoded::parse(request.query().as_bytes()) {
        if name.contains('\0') || value.contains('\0') {
            let field = if name.contains('\0') {
                "query".into()
            } else {
                name.into_owned()
            };
            return Some(ApiError::invalid_field(&field, MESSAGE));
        }
    }
    if request.body().is_empty() {
        return None;
    }
    // Malformed JSON is the handler's to report; only a parsed body is searched.
    let body: serde_json::Value = serde_json::from_slice(request.body()).ok()?;
    fn find(value: &serde_json::Value, path: String) -> Option<String> {
        match value {
            serde_json::Value::String(text) if text.contains('\0') => Some(path),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| find(item, format!("{path}[{i}]"))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    Some(here)
                } else {
                    find(item, here)
                }
            }),
            _ => None,
        }
    }
    find(&body, String::new())
        .map(|path| ApiError::invalid_field(if path.is_empty() { "body" } else { &path }, MESSAGE))
}

/// The request being served, with typed accessors.
pub struct Ctx {
    request: Request,
    request_id: uuid::Uuid,
    /// Whether the database still says the caller is an admin, once asked (see [`Ctx::caller`]).
    admin_confirmed: std::cell::Cell<Option<bool>>,
}

impl Ctx {
    fn new(request: Request) -> Ctx {
        // The server's own id: a client must not choose the correlation id of the events its
        // request starts (it could tie them to someone else's saga). A client's `X-Request-Id`
        // is logged beside it, so the two can be matched.
        let request_id = uuid::Uuid::new_v4();
        if let Some(theirs) = request.header("x-request-id").and_then(|v| v.as_str()) {
            let theirs: String = theirs
                .chars()
                .take(128)
                .filter(|c| !c.is_control())
                .collect();
            eprintln!("request {request_id}: the client's X-Request-Id is {theirs:?}");
        }
        Ctx {
            request,
            request_id,
            admin_confirmed: std::cell::Cell::new(None),
        }
    }

    /// This request's id, made by the server: the correlation id of the events the request
    /// starts.
    pub fn request_id(&self) -> uuid::Uuid {
        self.request_id
    }

    pub fn request(&self) -> &Request {
        &self.request
    }

    pub fn method(&self) -> String {
        method_name(self.request.method())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.header(name).and_then(|v| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.request.path()
    }

    /// A `:name` segment of the route (from Spin's `spin-path-match-<name>` header).
    pub fn path_param<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<T, ApiError> {
        let header = format!("spin-path-match-{}", name.replace('_', "-"));
        let raw = self
            .header(&header)
            .ok_or_else(|| ApiError::internal(format!("route has no :{name} segment")))?;
        // An id that cannot be one names nothing: 404, as for an unknown id.
        raw.parse().map_err(|_| ApiError::not_found(what))
    }

    /// Query-string parameters.
    pub fn query(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.request.query().as_bytes())
            .into_owned()
            .collect()
    }

    /// One query-string parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as `T`: malformed JSON, unknown fields and wrong types are a 400 naming the field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(self.request.body())
    }

    /// The caller, from `Authorization: Bearer <token>`; 401 when missing, invalid or expired.
    ///
    /// A token's role is what the user had when they logged in. A token that claims `admin` is
    /// checked against the database (`users.role_of`, once per request), so an admin whose role
    /// an operator revoked is a customer from their next request on, not at token expiry.
    pub fn caller(&self) -> Result<Caller, ApiError> {
        let header = self
            .header("authorization")
            .ok_or_else(|| ApiError::unauthorized("Missing bearer token."))?;
        let token = auth::bearer_token(header)
            .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`."))?;
        let secret = crate::config::jwt_secret()?;
        let now = chrono::Utc::now().timestamp();
        let claims = match auth::verify(token, secret.as_bytes(), now) {
            Ok(claims) => claims,
            Err(TokenError::Expired) => return Err(ApiError::unauthorized("Token expired.")),
            Err(_) => return Err(ApiError::unauthorized("Invalid token.")),
        };
        let mut caller = Caller {
            user_id: claims.sub,
            role: claims.role,
        };
        if caller.role == Role::Admin && !self.still_admin(caller.user_id)? {
            caller.role = Role::Customer;
        }
        Ok(caller)
    }

    /// Whether the database still gives `user` the admin role (asked once per request).
    fn still_admin(&self, user: UserId) -> Result<bool, ApiError> {
        if let Some(known) = self.admin_confirmed.get() {
            return Ok(known);
        }
        let db = crate::db::Db::connect()?;
        let role: Option<String> = db
            .query_one("SELECT users.role_of($1)", &[crate::db::uuid(user)])?
            .get(0)?;
        let admin = role.as_deref() == Some(Role::Admin.as_str());
        self.admin_confirmed.set(Some(admin));
        Ok(admin)
    }

    /// The caller, who must be an admin (401 without a valid token, 403 for customers).
    pub fn admin(&self) -> Result<Caller, ApiError> {
        let caller = self.caller()?;
        if caller.is_admin() {
            Ok(caller)
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// `If-Match: "<version>"`, when sent.
    pub fn if_match(&self) -> Result<Option<i64>, ApiError> {
        match self.header("if-match") {
            None => Ok(None),
            Some(value) => value
                .trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid_field("If-Match", "must be a version, e.g. \"3\"")),
        }
    }

    /// `?page=&limit=` (1 ≤ page ≤ 1,000,000, 1 ≤ limit ≤ 100; defaults 1 and 20).
    pub fn page(&self) -> Result<Page, ApiError> {
        let mut errors = ValidationErrors::new();
        let page = match self.query_param("page") {
            None => 1,
            Some(p) => match p.parse::<i64>() {
                Ok(p) if (1..=1_000_000).contains(&p) => p,
                _ => {
                    errors.push("page", "must be a whole number from 1 to 1000000");
                    1
                }
            },
        };
        let limit = match self.query_param("limit") {
            None => 20,
            Some(l) => match l.parse::<i64>() {
                Ok(l) if (1..=100).contains(&l) => l,
                _ => {
                    errors.push("limit", "must be a whole number between 1 and 100");
                    20
                }
            },
        };
        errors
            .finish(|| Page { page, limit })
            .map_err(ApiError::from)
    }
}

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub limit: i64,
}

impl Page {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }

    /// `{"items":[...],"page":1,"limit":20,"total":137}`.
    pub fn reply<T: Serialize>(&self, items: &[T], total: i64) -> Reply {
        Reply::ok(&serde_json::json!({
            "items": items,
            "page": self.page,
            "limit": self.limit,
            "total": total,
        }))
    }
}

/// Parses a JSON body, naming the field that failed.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError::validation(ValidationErrors(vec![json_field_error(&path, &inner)]))
    })?;
    deserializer
        .end()
        .map_err(|_| ApiError::invalid_field("body", "must be a single JSON value"))?;
    Ok(value)
}

fn json_field_error(path: &str, error: &serde_json::Error) -> FieldError {
    let text = error.to_string();
    // Drop serde's " at line 1 column 12" suffix.
    let text = text
        .rsplit_once(" at line ")
        .map(|(t, _)| t.to_owned())
        .unwrap_or(text);
    if let Some(rest) = text.strip_prefix("unknown field `") {
        // The path already ends with the unknown field's name.
        let name = rest.split('`').next().unwrap_or(rest);
        let field = if path == "." {
            name.to_owned()
        } else {
            path.to_owned()
        };
        return FieldError::new(field, "is not a known field");
    }
    if let Some(rest) = text.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        let field = if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return FieldError::new(field, "is required");
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    let message = match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "must be valid JSON".to_owned()
        }
        _ => text,
    };
    FieldError::new(field, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct AddItem {
        product_id: String,
        quantity: i64,
    }

    fn error_of(body: &str) -> (String, serde_json::Value) {
        let e = parse_json::<AddItem>(body.as_bytes()).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.code, "validation_failed");
        (e.message, e.extra["details"].clone())
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let (_, details) = error_of(r#"{"product_id":"x","quantity":"two"}"#);
        assert_eq!(details[0]["field"], "quantity");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let (_, details) = error_of(r#"{"product_id":"x","quantity":1,"colour":"red"}"#);
        assert_eq!(details[0]["field"], "colour");
        assert_eq!(details[0]["message"], "is not a known field");
    }

    #[test]
    fn a_missing_field_is_named() {
        let (_, details) = error_of(r#"{"quantity":1}"#);
        assert_eq!(details[0]["field"], "product_id");
        assert_eq!(details[0]["message"], "is required");
    }

    #[test]
    fn malformed_json_is_a_body_error() {
        for body in ["{", "not json", "", "[1,2]", "{} {}"] {
            let e = parse_json::<AddItem>(body.as_bytes()).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
        }
    }

    #[test]
    fn a_huge_number_is_refused_not_wrapped() {
        let (_, details) = error_of(r#"{"product_id":"x","quantity":1e30}"#);
        assert_eq!(details[0]["field"], "quantity");
    }
}
