//! `Idempotency-Key` on POST/PUT/PATCH/DELETE (CONTRACT.md §2):
//!
//! * same key + same request → the stored response again, with `Idempotent-Replayed: true`;
//! * same key + a different request → 422 `idempotency_key_reused`;
//! * same key while the first request still runs → 409 `request_in_progress`.
//!
//! Keys are scoped to the caller — the token's user; a caller without a valid token shares the
//! key space with nobody: an anonymous key is scoped to the request it came with, so only the
//! very same request is replayed, and an anonymous or unauthenticated request never learns of
//! anybody else's key (it gets on to the handler, which answers 401 where a token is needed).
//! Keys are kept at least 24 h (the maintenance sweep deletes older ones). A request that ends in
//! a 5xx releases its key so that a retry can run; one whose component died mid-way is taken
//! over after 60 s.
//!
//! What is kept never holds a credential: a request is recognised by a keyed HMAC-SHA256 of it
//! (the key is derived from `jwt_secret`), not by a plain hash that would let anyone who reads
//! the table test password guesses against it; and a response marked `Cache-Control: no-store`
//! (a login's, which carries a token) is never stored: its key is released, as after a 5xx, and
//! a retry runs again.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{self, Db};
use crate::reply::{ApiError, Reply};

/// What the rules need to know of a mutation (the HTTP layer reads it from the request).
#[derive(Debug, Clone, Copy)]
pub struct Mutation<'a> {
    /// The `Idempotency-Key` header, if sent.
    pub key: Option<&'a str>,
    /// The caller's user id, when the request carries a valid token.
    pub caller: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
}

/// Runs `handler` under the request's idempotency key, if it has one.
pub fn run(
    mutation: Mutation<'_>,
    handler: impl FnOnce() -> Result<Reply, ApiError>,
) -> Result<Reply, ApiError> {
    let Some(key) = mutation.key.map(str::to_owned) else {
        return handler();
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    let fingerprint = fingerprint(&mutation, crate::config::jwt_secret()?.as_bytes());
    let scope = match mutation.caller {
        Some(user) => user.to_owned(),
        None => format!("anonymous:{fingerprint}"),
    };
    let db = Db::connect()?;

    match claim(&db, &scope, &key, &fingerprint)? {
        Claim::Proceed => {}
        Claim::Replay(reply) => return Ok(reply),
        Claim::Reject(error) => return Err(error),
    }

    let reply = handler().unwrap_or_else(ApiError::into_error_reply);
    if reply.status >= 500 || reply.is_no_store() {
        db.execute(
            "DELETE FROM platform.idempotency_keys WHERE scope = $1 AND key = $2",
            &[db::text(&scope), db::text(&key)],
        )?;
    } else {
        let headers = serde_json::to_value(&reply.headers).expect("headers serialize");
        db.execute(
            "UPDATE platform.idempotency_keys
                SET state = 'completed', response_status = $3, response_headers = $4,
                    response_body = $5
              WHERE scope = $1 AND key = $2",
            &[
                db::text(&scope),
                db::text(&key),
                i32::from(reply.status).into(),
                db::json(&headers),
                reply.body.clone().into(),
            ],
        )?;
    }
    Ok(reply)
}

enum Claim {
    Proceed,
    Replay(Reply),
    Reject(ApiError),
}

fn claim(db: &Db, scope: &str, key: &str, fingerprint: &str) -> Result<Claim, ApiError> {
    let inserted = db.execute(
        "INSERT INTO platform.idempotency_keys (scope, key, fingerprint, state)
         VALUES ($1, $2, $3, 'in_progress')
         ON CONFLICT (scope, key) DO NOTHING",
        &[db::text(scope), db::text(key), db::text(fingerprint)],
    )?;
    if inserted == 1 {
        return Ok(Claim::Proceed);
    }
    let Some(row) = db.query_opt(
        "SELECT fingerprint, state, response_status, response_headers, response_body,
                locked_at < now() - interval '60 seconds'
           FROM platform.idempotency_keys WHERE scope = $1 AND key = $2",
        &[db::text(scope), db::text(key)],
    )?
    else {
        // Released by a 5xx between our insert and select: try once more.
        return claim(db, scope, key, fingerprint);
    };
    if row.get::<String>(0)? != fingerprint {
        return Ok(Claim::Reject(ApiError::new(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request.",
        )));
    }
    if row.get::<String>(1)? == "completed" {
        let status: i32 = row.get(2)?;
        let headers: serde_json::Value = row.get(3)?;
        let headers: Vec<(String, String)> = serde_json::from_value(headers).unwrap_or_default();
        let mut reply = Reply {
            status: u16::try_from(status).unwrap_or(500),
            headers,
            body: row.get(4)?,
        };
        reply
            .headers
            .push(("idempotent-replayed".into(), "true".into()));
        return Ok(Claim::Replay(reply));
    }
    let stale: bool = row.get(5)?;
    if stale {
        let taken = db.execute(
            "UPDATE platform.idempotency_keys SET locked_at = now()
              WHERE scope = $1 AND key = $2 AND state = 'in_progress'
                AND locked_at < now() - interval '60 seconds'",
            &[db::text(scope), db::text(key)],
        )?;
        if taken == 1 {
            return Ok(Claim::Proceed);
        }
    }
    Ok(Claim::Reject(ApiError::conflict(
        "request_in_progress",
        "A request with this Idempotency-Key is still being processed.",
    )))
}

/// What makes two requests "the same" — method, path, query and body — as a keyed HMAC-SHA256
/// (hex): equal for equal requests, and worthless to whoever reads the table without the key.
fn fingerprint(mutation: &Mutation<'_>, secret: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&fingerprint_key(secret))
        .expect("HMAC takes a key of any length");
    mac.update(mutation.method.as_bytes());
    mac.update(b" ");
    mac.update(mutation.path.as_bytes());
    mac.update(b"?");
    mac.update(mutation.query.as_bytes());
    mac.update(b"\n");
    mac.update(mutation.body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fingerprints' own key, derived from the token signing key (never the signing key itself).
fn fingerprint_key(secret: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"spincart idempotency fingerprint v1");
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(body: &'static [u8]) -> Mutation<'static> {
        Mutation {
            key: Some("k"),
            caller: None,
            method: "POST",
            path: "/api/v1/users/login",
            query: "",
            body,
        }
    }

    #[test]
    fn a_fingerprint_is_keyed_and_tells_requests_apart() {
        let secret = b"0f9c2e7d41b8a6530f9c2e7d41b8a653";
        let a = fingerprint(&login(br#"{"password":"hunter22"}"#), secret);
        assert_eq!(
            a,
            fingerprint(&login(br#"{"password":"hunter22"}"#), secret)
        );
        assert_ne!(
            a,
            fingerprint(&login(br#"{"password":"hunter23"}"#), secret)
        );
        assert_ne!(
            a,
            fingerprint(
                &login(br#"{"password":"hunter22"}"#),
                b"another key of 32 bytes or more!"
            )
        );
        // Not the plain SHA-256 anyone could recompute from a guessed password.
        use sha2::Digest;
        let plain: String =
            Sha256::digest(b"POST /api/v1/users/login?\n{\"password\":\"hunter22\"}")
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        assert_ne!(a, plain);
    }
}
