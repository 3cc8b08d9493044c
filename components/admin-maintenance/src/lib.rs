//! `POST /api/v1/admin/maintenance/run` — one sweep now; see
//! [`spincart_platform::maintenance::run`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_platform::maintenance::run)],
    )
}
