//! The no-oversell invariant under a real concurrent load: hundreds of add-to-cart requests for
//! the last units of a product lock exactly what exists.

use futures::future::join_all;

use crate::helpers::app;

#[tokio::test]
async fn two_hundred_concurrent_requests_for_the_last_ten_units_lock_exactly_ten() {
    let app = app().await;
    let product = app.create_product("9.99", 10).await;
    let pid = product["id"].as_str().unwrap().to_owned();
    let shoppers = join_all((0..200).map(|_| async {
        let user = app.customer().await;
        let cart = app.cart_of(&user).await["id"].as_str().unwrap().to_owned();
        (user, cart)
    }))
    .await;
    let started = std::time::Instant::now();
    let results = join_all(
        shoppers
            .iter()
            .map(|(user, cart)| app.add_item(user, cart, &pid, 1)),
    )
    .await;
    let elapsed = started.elapsed();
    let locked = results.iter().filter(|r| r.status == 200).count();
    let refused = results
        .iter()
        .filter(|r| r.status == 409 && r.error_code() == "insufficient_stock")
        .count();
    eprintln!("200 concurrent add-item requests for 10 units: {locked} locked, {refused} refused in {elapsed:?}");
    assert_eq!(
        locked,
        10,
        "statuses: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(refused, 190);
    let stock = app.stock(&pid).await;
    assert_eq!(stock["locked"], 10);
    assert_eq!(stock["available"], 0);
}
