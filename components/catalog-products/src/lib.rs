//! `/api/v1/products`: `GET` lists and searches (public), `POST` creates (admin).
//! Spin routes by path, so the two endpoints of this path share a component.

use spin_sdk::http::{IncomingRequest, Response};
use spincart_catalog::platform::http::{serve, Endpoint};
use spincart_catalog::{create_product, list_products};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::get(list_products), Endpoint::post(create_product)],
    )
    .await
}
