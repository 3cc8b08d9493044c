//! # spincart-graphql
//!
//! The GraphQL gateway: one schema ([`schema`], printed to `schema.graphql`) over every
//! context. Its resolvers run the REST endpoints' own use cases ([`call`]), so each rule,
//! error and idempotency behaviour lives in one place and an error's `extensions.code` is the
//! REST error code. The products named by cart and order lines are loaded in one statement
//! per query level ([`loader`]); depth and complexity are limited ([`MAX_DEPTH`],
//! [`MAX_COMPLEXITY`]), and so are the same field under many aliases, mutations per request and
//! the total `waitSeconds` ([`limits`]); introspection is on. `orderStatus` streams over Server-Sent Events
//! ([`subscribe`]), with `order(id, waitSeconds)` as the long-poll fallback.
//!
//! The component `components/graphql` serves it at `/graphql`.

pub mod call;
pub mod limits;
pub mod loader;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::Schema;
use futures::{Stream, StreamExt};

pub use call::{Caller, FORWARDED_HEADERS};
/// The platform, for the component (which depends on this crate only).
pub use spincart_platform as platform;

/// The deepest a query may nest (the introspection query GraphiQL sends fits).
pub const MAX_DEPTH: usize = 15;
/// The most fields a query may select, counted with list fields once.
pub const MAX_COMPLEXITY: usize = 1000;

pub type GatewaySchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// The schema with its limits.
pub fn schema() -> GatewaySchema {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema in SDL: what `schema.graphql` holds.
pub fn sdl() -> String {
    schema().sdl()
}

/// Whether a query is blank: nothing but white space, by the rule `openapi.yaml`'s `\S` pattern
/// is checked with (Python's `str.isspace`: Unicode white space and the separators U+001C–U+001F).
fn is_blank(query: &str) -> bool {
    query
        .chars()
        .all(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Why a request was not executed at all (GraphQL over HTTP: a 400 or 405).
#[derive(Debug)]
pub struct BadRequest {
    pub status: u16,
    pub message: String,
}

/// Parses a GraphQL request: a JSON body (`{query, operationName, variables}`), or, for GET,
/// the query string's `query`, `operationName` and `variables` (JSON).
pub fn parse_request(
    json_body: Option<&[u8]>,
    query_string: Option<&str>,
) -> Result<async_graphql::Request, BadRequest> {
    let bad = |message: String| BadRequest {
        status: 400,
        message,
    };
    if let Some(body) = json_body {
        let request: async_graphql::Request = serde_json::from_slice(body)
            .map_err(|e| bad(format!("The body is not a GraphQL request: {e}.")))?;
        if is_blank(&request.query) {
            return Err(bad("The body has no `query`.".into()));
        }
        return Ok(request);
    }
    let mut query = None;
    let mut operation = None;
    let mut variables = None;
    for (name, value) in form_urlencoded_pairs(query_string.unwrap_or("")) {
        match name.as_str() {
            "query" => query = Some(value),
            "operationName" => operation = Some(value),
            "variables" => variables = Some(value),
            _ => {}
        }
    }
    let query = query
        .filter(|q| !is_blank(q))
        .ok_or_else(|| bad("A `query` parameter is required.".into()))?;
    let mut request = async_graphql::Request::new(query);
    if let Some(operation) = operation {
        request = request.operation_name(operation);
    }
    if let Some(variables) = variables.filter(|v| !v.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(&variables)
            .ok()
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| bad("`variables` is not a JSON object.".into()))?;
        request = request.variables(async_graphql::Variables::from_json(value));
    }
    Ok(request)
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Executes a query or mutation for `caller`: the JSON response (`data`, `errors`).
/// A GET may only query (GraphQL over HTTP): a mutation over GET is refused.
pub fn execute(request: async_graphql::Request, caller: Caller, read_only: bool) -> Vec<u8> {
    let loader = loader::ProductLoader::default();
    let schema = schema();
    let request = request.data(caller).data(loader);
    let response = futures::executor::block_on(async {
        if read_only {
            if let Some(refusal) = refuse_mutation(&request) {
                return refusal;
            }
        }
        if let Err(too_expensive) = limits::check(&request) {
            return limits::refusal(too_expensive);
        }
        schema.execute(request).await
    });
    serde_json::to_vec(&response).unwrap_or_default()
}

fn refuse_mutation(request: &async_graphql::Request) -> Option<async_graphql::Response> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    let mutation = document.operations.iter().any(|(name, op)| {
        let chosen = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            _ => true,
        };
        chosen && op.node.ty != async_graphql::parser::types::OperationType::Query
    });
    mutation.then(|| {
        async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
            "Only queries may be sent with GET; send mutations and subscriptions with POST.",
            None,
        )])
    })
}

/// Runs a subscription (or any operation) as a stream of Server-Sent Events in the
/// graphql-sse "distinct connections" shape: `event: next` with each response, then
/// `event: complete`.
pub fn subscribe(request: async_graphql::Request, caller: Caller) -> impl Stream<Item = Vec<u8>> {
    let refused = limits::check(&request).err();
    let request = request.data(caller).data(loader::ProductLoader::default());
    let responses = match refused {
        Some(too_expensive) => {
            futures::stream::once(async move { limits::refusal(too_expensive) }).boxed_local()
        }
        None => schema().execute_stream(request).boxed_local(),
    };
    responses
        .map(|response| {
            let json = serde_json::to_string(&response).unwrap_or_default();
            format!("event: next\ndata: {json}\n\n").into_bytes()
        })
        .chain(futures::stream::once(async {
            b"event: complete\ndata:\n\n".to_vec()
        }))
}

/// `GET /graphql` from a browser, when `graphql_explorer` is `true`: the GraphiQL explorer. Its
/// scripts come from a CDN (unpkg.com), pinned by Subresource Integrity hashes of the exact npm
/// files, so the browser needs the internet (the endpoint itself does not), and a changed file
/// is refused rather than run on the app's origin. It is off unless turned on: production
/// deployments need not serve third-party code at all.
pub const EXPLORER_HTML: &str = include_str!("explorer.html");

/// Whether the explorer is served (`graphql_explorer`, default `false`; `make up` turns it on).
pub fn explorer_enabled() -> bool {
    spincart_platform::config::require("graphql_explorer").is_ok_and(|v| v.trim() == "true")
}

/// The explorer page's Content-Security-Policy: scripts only from unpkg.com (each pinned by its
/// integrity hash in the page) and the page's one inline script, by its SHA-256; requests only
/// to the app itself; no framing.
pub fn explorer_policy() -> String {
    use base64::Engine;
    use sha2::Digest;
    let inline = EXPLORER_HTML
        .rsplit_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(script, _)| script)
        .expect("the explorer page has its inline script last");
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline));
    format!(
        "default-src 'none'; script-src https://unpkg.com 'sha256-{hash}'; \
         style-src https://unpkg.com 'unsafe-inline'; font-src https://unpkg.com data:; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_of_white_space_or_separators_is_blank_and_anything_else_is_not() {
        for blank in [
            "",
            " ",
            "\u{c}",
            "\n\t",
            "\u{1c}\u{1f}",
            "\u{a0}\u{2028}\u{3000}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for query in ["{ me { id } }", "\u{0}", " x ", "\u{7f}"] {
            assert!(!is_blank(query), "{query:?}");
        }
    }

    fn run(query: &str) -> serde_json::Value {
        let request = parse_request(
            Some(serde_json::json!({ "query": query }).to_string().as_bytes()),
            None,
        )
        .unwrap();
        serde_json::from_slice(&execute(request, Caller::default(), false)).unwrap()
    }

    #[test]
    fn the_schema_file_is_what_the_code_prints() {
        let file = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schema.graphql"
        ))
        .expect("schema.graphql at the repository's root (print it: cargo run -p spincart-graphql --example print-schema > schema.graphql)");
        assert!(
            file == sdl(),
            "schema.graphql differs from the schema in code; print it again: \
             cargo run -p spincart-graphql --example print-schema > schema.graphql"
        );
    }

    #[test]
    fn introspection_is_on_and_fits_the_limits() {
        let out = run(INTROSPECTION);
        assert!(out.get("errors").is_none(), "{out}");
        assert_eq!(out["data"]["__schema"]["queryType"]["name"], "Query");
    }

    #[test]
    fn a_query_deeper_than_the_limit_is_refused_before_it_runs() {
        let mut query = String::from("{ __schema { types { ");
        for _ in 0..MAX_DEPTH {
            query.push_str("fields { type { ");
        }
        query.push_str("name");
        for _ in 0..MAX_DEPTH {
            query.push_str(" } }");
        }
        query.push_str(" } } }");
        let out = run(&query);
        assert!(
            out["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("nested too deep"),
            "{out}"
        );
    }

    #[test]
    fn the_explorer_loads_only_pinned_scripts() {
        let pinned = EXPLORER_HTML.matches("integrity=\"sha384-").count();
        let external = EXPLORER_HTML.matches("https://unpkg.com/").count();
        assert_eq!(
            pinned, external,
            "every unpkg.com file has its integrity hash"
        );
        let policy = explorer_policy();
        assert!(
            policy.contains("script-src https://unpkg.com 'sha256-"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }

    #[test]
    fn a_mutation_over_get_is_refused() {
        let request = parse_request(None, Some("query=mutation%7BopenCart%7Bid%7D%7D")).unwrap();
        let out: serde_json::Value =
            serde_json::from_slice(&execute(request, Caller::default(), true)).unwrap();
        assert!(out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Only queries"));
    }

    #[test]
    fn a_get_query_string_is_decoded() {
        let request = parse_request(
            None,
            Some("query=query+Q(%24id%3A+ID!)%7Bproduct(id%3A%24id)%7Bname%7D%7D&operationName=Q&variables=%7B%22id%22%3A%221%22%7D"),
        )
        .unwrap();
        assert_eq!(request.query, "query Q($id: ID!){product(id:$id){name}}");
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
    }

    #[test]
    fn a_body_that_is_not_a_graphql_request_is_a_400() {
        let error = parse_request(Some(b"{\"nope\":1}"), None).unwrap_err();
        assert_eq!(error.status, 400);
    }

    const INTROSPECTION: &str = r#"
      query IntrospectionQuery {
        __schema {
          queryType { name } mutationType { name } subscriptionType { name }
          types { ...FullType }
          directives { name description locations args { ...InputValue } }
        }
      }
      fragment FullType on __Type {
        kind name description
        fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
        inputFields { ...InputValue }
        interfaces { ...TypeRef }
        enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
        possibleTypes { ...TypeRef }
      }
      fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
      fragment TypeRef on __Type {
        kind name
        ofType { kind name ofType { kind name ofType { kind name ofType { kind name
          ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
      }
    "#;
}
