//! `POST /api/v1/admin/maintenance/run` — one sweep now; see
//! [`spincart_operations::maintenance::run`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_operations::maintenance::run)],
    )
    .await
}
