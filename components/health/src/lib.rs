//! `GET /health` — checks PostgreSQL and Redis.

use spin_sdk::http::{Request, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::get(spincart_operations::health::check)],
    )
}
