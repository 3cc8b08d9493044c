//! # spincart-identity
//!
//! Identity: register, login (HS256 tokens), and who the caller is.

#![deny(unsafe_code)]

pub mod queries;
pub mod throttle;

use serde::Serialize;
use spincart_domain::auth::{self, Claims};
use spincart_domain::events::{Causation, EventType, NewEvent};
use spincart_domain::identity::{self, Email, RegisterRequest, Registration};
use spincart_domain::ids::UserId;

use spincart_platform::config;
use spincart_platform::db::Db;
use spincart_platform::events::Outbox;
use spincart_platform::http::{ApiError, Ctx, Reply};

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;

#[derive(Serialize)]
struct RegisteredUser<'a> {
    id: UserId,
    email: &'a str,
    full_name: &'a str,
}

/// `POST /api/v1/users/register` → 201 `{id,email,full_name}`; 409 `email_taken`.
pub fn register(ctx: &Ctx) -> Result<Reply, ApiError> {
    let registration = Registration::parse(ctx.json::<RegisterRequest>()?)?;
    // Counted before the (deliberately slow) password hash.
    throttle::attempt(
        &throttle::Keys::for_registration(ctx),
        throttle::Limits::registrations(),
    )?;
    let salt = uuid::Uuid::new_v4();
    let hash = identity::hash_password(&registration.password, salt.as_bytes())
        .map_err(ApiError::internal)?;
    let id = UserId::new();
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    let created = db.transaction(|tx| -> Result<bool, ApiError> {
        if !queries::insert_user(tx, id, &registration.email, &hash, &registration.full_name)? {
            return Ok(false);
        }
        outbox.record(
            tx,
            NewEvent::new(
                EventType::UserRegistered,
                "user",
                id,
                1,
                &serde_json::json!({ "user_id": id, "email": registration.email.as_str() }),
            ),
            Causation::new_chain(ctx.request_id()),
        )?;
        Ok(true)
    })?;
    if !created {
        return Err(ApiError::conflict(
            "email_taken",
            "An account with this e-mail already exists.",
        ));
    }
    outbox.publish(&db);
    Ok(Reply::created(&RegisteredUser {
        id,
        email: registration.email.as_str(),
        full_name: &registration.full_name,
    }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
}

/// `POST /api/v1/users/login` → 200 `{token,expires_at,user:{id,email,role}}`; wrong → 401.
pub fn login(ctx: &Ctx) -> Result<Reply, ApiError> {
    let request: LoginRequest = ctx.json()?;
    let invalid = || ApiError::new(401, "invalid_credentials", "E-mail or password is wrong.");
    let email = Email::parse(&request.email).ok();
    let limits = throttle::Limits::from_config();
    let keys = throttle::Keys::for_login(ctx, email.as_ref());
    // Counted before the password is checked: parallel guesses pass the limit, not the check.
    throttle::attempt(&keys, limits)?;
    let Some(email) = email else {
        return Err(invalid());
    };
    let db = Db::connect()?;
    let user = queries::find_by_email(&db, &email)?;
    // Verify against a decoy when the account does not exist: same work, same timing.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or(identity::DECOY_HASH);
    let verified = identity::verify_password(&request.password, hash);
    let Some(user) = user.filter(|_| verified) else {
        return Err(invalid());
    };
    throttle::succeeded(&keys);
    let role = user.role;
    let ttl: i64 = config::parse("token_ttl_seconds").unwrap_or(3600);
    let now = chrono::Utc::now();
    let claims = Claims::new(user.id, role, user.email.clone(), now.timestamp(), ttl);
    let token = auth::sign(&claims, config::jwt_secret()?.as_bytes());
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0)
        .unwrap_or(now)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    // A token response is never cached nor kept in an idempotency record (RFC 6749 §5.1).
    Ok(Reply::ok(&serde_json::json!({
        "token": token,
        "expires_at": expires_at,
        "user": { "id": user.id, "email": user.email, "role": role },
    }))
    .no_store())
}

/// `GET /api/v1/users/me` → `{id,email,full_name,role}`.
pub fn me(ctx: &Ctx) -> Result<Reply, ApiError> {
    let caller = ctx.caller()?;
    let db = Db::connect()?;
    // A valid token for a user that no longer exists is as good as no token.
    let user = queries::find_by_id(&db, caller.user_id)?
        .ok_or_else(|| ApiError::unauthorized("Unknown user."))?;
    Ok(Reply::ok(&serde_json::json!({
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
    })))
}
