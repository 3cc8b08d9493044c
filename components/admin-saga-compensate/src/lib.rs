//! `POST /api/v1/admin/sagas/:id/compensate` — see [`spincart_platform::admin::compensate_saga`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_platform::admin::compensate_saga)],
    )
}
