//! `GET /health` — checks PostgreSQL and Redis; `?deep=1` also the event store and the sagas.

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::get(spincart_operations::health::check)],
    )
    .await
}
