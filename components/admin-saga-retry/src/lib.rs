//! `POST /api/v1/admin/sagas/:id/retry` — see [`spincart_operations::admin::retry_saga`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_operations::admin::retry_saga)],
    )
    .await
}
