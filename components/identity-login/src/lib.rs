//! `POST /api/v1/users/login` — see [`spincart_platform::identity::login`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_platform::identity::login)],
    )
}
