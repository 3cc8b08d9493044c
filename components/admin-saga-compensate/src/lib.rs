//! `POST /api/v1/admin/sagas/:id/compensate` — see [`spincart_operations::admin::compensate_saga`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_operations::admin::compensate_saga)],
    )
    .await
}
