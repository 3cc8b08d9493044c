//! `POST /api/v1/admin/dead-letters/:id/replay` — see [`spincart_operations::admin::replay_dead_letter`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::post(
            spincart_operations::admin::replay_dead_letter,
        )],
    )
    .await
}
