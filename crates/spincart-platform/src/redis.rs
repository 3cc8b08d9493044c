//! The one Redis connection of a request or message.
//!
//! On real Spin every `redis::Connection::open` is a new TCP connection (Spin pools none), and a
//! request used to open up to three: to publish its events, to flush its metrics, to use the
//! cart cache or the login throttle. One instance serves one request, so the connection is
//! opened on first use and kept for the rest of it ([`connection`]); everything that talks to
//! Redis during the request shares it. A connection that failed is not kept: the next use
//! tries again.

use std::cell::RefCell;
use std::rc::Rc;

use spin_sdk::redis::Connection;

thread_local! {
    static OPEN: RefCell<Option<Rc<Connection>>> = const { RefCell::new(None) };
}

/// This request's connection to the app's Redis (`redis_url`), opened on first use.
pub fn connection() -> Result<Rc<Connection>, String> {
    if let Some(open) = OPEN.with(|o| o.borrow().clone()) {
        return Ok(open);
    }
    let url = crate::config::require("redis_url").map_err(|e| e.to_string())?;
    let connection = Rc::new(Connection::open(&url).map_err(|e| format!("{e:?}"))?);
    OPEN.with(|o| *o.borrow_mut() = Some(connection.clone()));
    Ok(connection)
}

/// Forgets this request's connection after a command on it failed (Redis may have gone away or
/// restarted): the next use opens a new one.
pub fn forget() {
    OPEN.with(|o| o.borrow_mut().take());
}
