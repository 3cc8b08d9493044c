//! `POST /api/v1/admin/sagas/:id/retry` — see [`spincart_operations::admin::retry_saga`].

use spin_sdk::http::{Request, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_operations::admin::retry_saga)],
    )
}
