//! `/api/v1/products/:id`: `GET` one product (public), `PATCH` changes it (admin).

use spin_sdk::http::{IncomingRequest, Response};
use spincart_catalog::platform::http::{serve, Endpoint};
use spincart_catalog::{get_product, patch_product};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::get(get_product), Endpoint::patch(patch_product)],
    )
    .await
}
