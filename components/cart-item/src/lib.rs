//! `/api/v1/carts/:id/items/:product_id`: `PUT` sets the quantity, `DELETE` removes the line.

use spin_sdk::http::{Request, Response};
use spincart_cart::platform::http::{serve, Endpoint};
use spincart_cart::{remove_item, update_item};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::put(update_item), Endpoint::delete(remove_item)],
    )
}
