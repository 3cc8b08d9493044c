//! `GET /api/v1/admin/sagas?status=` — see [`spincart_operations::admin::list_sagas`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::get(spincart_operations::admin::list_sagas)],
    )
    .await
}
