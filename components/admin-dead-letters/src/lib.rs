//! `GET /api/v1/admin/dead-letters` — see [`spincart_operations::admin::list_dead_letters`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::get(spincart_operations::admin::list_dead_letters)],
    )
    .await
}
