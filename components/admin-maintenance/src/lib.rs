//! `POST /api/v1/admin/maintenance/run` — one sweep now; see
//! [`spincart_operations::maintenance::run`].

use spin_sdk::http::{Request, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_operations::maintenance::run)],
    )
}
