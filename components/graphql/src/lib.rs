//! `/graphql` — the GraphQL gateway, see [`spincart_graphql`]:
//!
//! * `POST` with a JSON body: a query or mutation, answered as JSON;
//! * `POST` with `Accept: text/event-stream`: a subscription (`orderStatus`), streamed as
//!   Server-Sent Events;
//! * `GET` with `?query=`: a query (never a mutation); `GET` from a browser: the explorer.

use futures::{SinkExt, StreamExt};
use spin_sdk::http::{Fields, IncomingRequest, Method, OutgoingResponse, ResponseOutparam};
use spincart_graphql::platform::http::read_request;
use spincart_graphql::{parse_request, BadRequest, Caller, FORWARDED_HEADERS};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    // Latency (a subscription's: until its stream ends) and what the resolvers recorded, flushed
    // to Redis when the handler returns.
    let _timer = spincart_graphql::platform::metrics::RequestTimer::start("/graphql", "http");
    let method = request.method();
    let accept = header(&request, "accept").unwrap_or_default();
    let caller = Caller {
        headers: FORWARDED_HEADERS
            .iter()
            .filter_map(|name| header(&request, name).map(|v| (name.to_string(), v)))
            .collect(),
    };
    let request = match method {
        Method::Get | Method::Post => match read_request(request).await {
            Ok(request) => request,
            Err(error) => {
                return respond(
                    out,
                    error.status,
                    "application/json",
                    error_body(&error.message),
                )
                .await
            }
        },
        _ => {
            let response = response(405, "application/json", &[("allow", "GET, POST")]);
            return send(out, response, error_body("Use GET or POST.")).await;
        }
    };
    if method == Method::Get && request.query().is_empty() && accept.contains("text/html") {
        if !spincart_graphql::explorer_enabled() {
            let message = "The GraphQL explorer is off (the graphql_explorer setting); POST queries to /graphql.";
            let response = response(404, "application/json", &[]);
            return send(out, response, error_body(message)).await;
        }
        let policy = spincart_graphql::explorer_policy();
        let response = response(
            200,
            "text/html; charset=utf-8",
            &[
                ("content-security-policy", policy.as_str()),
                ("x-frame-options", "DENY"),
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "no-referrer"),
            ],
        );
        return send(out, response, spincart_graphql::EXPLORER_HTML.into()).await;
    }
    let parsed = if method == Method::Get {
        parse_request(None, Some(request.query()))
    } else {
        parse_request(Some(request.body()), None)
    };
    let graphql = match parsed {
        Ok(graphql) => graphql,
        Err(BadRequest { status, message }) => {
            return respond(out, status, "application/json", error_body(&message)).await
        }
    };
    if method == Method::Post && accept.contains("text/event-stream") {
        let response = response(200, "text/event-stream", &[("cache-control", "no-cache")]);
        let mut body = response.take_body();
        out.set(response);
        let mut events = std::pin::pin!(spincart_graphql::subscribe(graphql, caller));
        while let Some(event) = events.next().await {
            if body.send(event).await.is_err() {
                break; // the client went away
            }
        }
        return;
    }
    let json = spincart_graphql::execute(graphql, caller, method == Method::Get);
    respond(out, 200, "application/json", json).await
}

/// The last value of a header, as the REST components read it (spin-sdk's request keeps the
/// last): Spin appends its own `spin-*` headers (`spin-client-addr`…) after any copy a client
/// sent, so the last one is the runtime's and a client's forgery is never forwarded.
fn header(request: &IncomingRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .last()
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn error_body(message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": "bad_request" } }]
    }))
    .unwrap_or_default()
}

/// A response's head; its headers are fixed once it exists (WASI HTTP), so all go in here.
fn response(status: u16, content_type: &str, extra: &[(&str, &str)]) -> OutgoingResponse {
    let mut headers = vec![("content-type".to_owned(), content_type.as_bytes().to_vec())];
    headers.extend(
        extra
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec())),
    );
    let response = OutgoingResponse::new(Fields::from_list(&headers).expect("valid headers"));
    response.set_status_code(status).ok();
    response
}

async fn respond(out: ResponseOutparam, status: u16, content_type: &str, body: Vec<u8>) {
    send(out, response(status, content_type, &[]), body).await
}

async fn send(out: ResponseOutparam, response: OutgoingResponse, body: Vec<u8>) {
    if let Err(e) = out.set_with_body(response, body).await {
        eprintln!("graphql: the response could not be sent: {e:?}");
    }
}
