//! `/api/v1/products`: `GET` lists and searches (public), `POST` creates (admin).
//! Spin routes by path, so the two endpoints of this path share a component.

use spin_sdk::http::{Request, Response};
use spincart_catalog::platform::http::{serve, Endpoint};
use spincart_catalog::{create_product, list_products};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::get(list_products), Endpoint::post(create_product)],
    )
}
