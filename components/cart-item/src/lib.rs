//! `/api/v1/carts/:id/items/:product_id`: `PUT` sets the quantity, `DELETE` removes the line.

use spin_sdk::http::{IncomingRequest, Response};
use spincart_cart::platform::http::{serve, Endpoint};
use spincart_cart::{remove_item, update_item};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::put(update_item), Endpoint::delete(remove_item)],
    )
    .await
}
