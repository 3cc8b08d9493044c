//! `GET /health`
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok(Response::new(200, "ok"))
}
