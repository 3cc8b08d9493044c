//! `orderStatus`: an order's status changes pushed to the client, over Server-Sent Events
//! (the component streams the response). Each change is the long-poll use case
//! (`GET /api/v1/orders/{id}?wait=N`) answering early; the stream ends once the order and its
//! saga have settled, or after [`STREAM_FOR_AT_MOST`].

use async_graphql::{Context, Subscription, ID};
use futures::Stream;

use crate::call::Caller;
use crate::types::Order;

/// How long one subscription stays open; a client that still wants updates subscribes again
/// (EventSource reconnects by itself).
pub const STREAM_FOR_AT_MOST: std::time::Duration = std::time::Duration::from_secs(300);

/// Seconds each long poll waits for a change.
const WAIT_SECONDS: i32 = 25;

/// The saga statuses after which nothing changes by itself.
const SETTLED_SAGA: [&str; 4] = [
    "CONFIRMED",
    "COMPENSATED",
    "CANCELLED",
    "COMPENSATION_FAILED",
];

pub struct Subscription;

/// What the client has seen: the order's status, the saga's status and step.
fn seen(order: &Order) -> (String, String, String) {
    (
        order.status.clone(),
        order.saga.status.clone(),
        order.saga.step.clone(),
    )
}

fn settled(order: &Order) -> bool {
    order.status != "PENDING" && SETTLED_SAGA.contains(&order.saga.status.as_str())
}

#[Subscription]
impl Subscription {
    /// The order now, then again at each change of its status or its saga's status or step,
    /// until it has settled (CONFIRMED, FAILED after its compensations, CANCELLED). The
    /// long-poll fallback: `order(id, waitSeconds: 25)` in a loop.
    async fn order_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> impl Stream<Item = async_graphql::Result<Order>> {
        let caller = ctx.data_unchecked::<Caller>().clone();
        let until = std::time::Instant::now() + STREAM_FOR_AT_MOST;
        futures::stream::unfold(
            (None::<(String, String, String)>, false),
            move |(last, done)| {
                let caller = caller.clone();
                let id = id.clone();
                async move {
                    if done {
                        return None;
                    }
                    loop {
                        let wait = if last.is_none() {
                            None
                        } else {
                            Some(WAIT_SECONDS)
                        };
                        let order = crate::query::order_for(&caller, &id, wait);
                        match order {
                            Err(e) => return Some((Err(e), (last, true))),
                            Ok(order) => {
                                let now = seen(&order);
                                let timed_out = std::time::Instant::now() >= until;
                                if last.as_ref() != Some(&now) || timed_out {
                                    let finished = settled(&order) || timed_out;
                                    return Some((Ok(order), (Some(now), finished)));
                                }
                            }
                        }
                    }
                }
            },
        )
    }
}
