//! # spincart-admin
//!
//! Who is an admin is an operator's decision, made against the database: a registration can
//! never grant it (there is no list of admin e-mails a stranger could register first). The role
//! lives in `users.users.role`; every request whose token claims `admin` is checked against it,
//! so a [`revoke`] takes effect at once. Each change is recorded as an event of the user
//! (`user.registered`, `user.role_changed`) in the event store, like every other change.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let db = "postgres://spincart@127.0.0.1:15432/spincart";
//! let outcome = spincart_admin::ensure_admin(db, "ops@example.com", "a long passphrase", "Ops").await?;
//! println!("{outcome}");
//! # Ok(()) }
//! ```

#![deny(unsafe_code)]

use anyhow::{bail, Context};
use spincart_domain::auth::Role;
use spincart_domain::events::EventType;
use spincart_domain::identity::{self, Email, RegisterRequest, Registration};

/// What [`ensure_admin`], [`grant`] or [`revoke`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new account, with the admin role.
    Created { email: String },
    /// An existing account got the role it did not have.
    Changed { email: String, role: Role },
    /// The account already had that role: nothing was written.
    Unchanged { email: String, role: Role },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Created { email } => write!(f, "created {email} as an admin"),
            Outcome::Changed { email, role } => write!(f, "{email} is now {}", role.as_str()),
            Outcome::Unchanged { email, role } => {
                write!(f, "{email} was {} already: nothing changed", role.as_str())
            }
        }
    }
}

async fn connect(db_url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(db_url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {}", without_password(db_url)))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("spincart-admin: the database connection ended: {e}");
        }
    });
    Ok(client)
}

/// The URL without its password, for messages.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Records an event of the user in the event store (marked published: nothing consumes user
/// events; they are the account's history).
async fn record(
    tx: &tokio_postgres::Transaction<'_>,
    user: uuid::Uuid,
    event_type: EventType,
    data: serde_json::Value,
) -> anyhow::Result<()> {
    let version: i64 = tx
        .query_one(
            "SELECT coalesce(max(aggregate_version), 0) + 1 FROM messaging.events
              WHERE aggregate_type = 'user' AND aggregate_id = $1",
            &[&user],
        )
        .await?
        .get(0);
    let id = uuid::Uuid::new_v4();
    tx.execute(
        "INSERT INTO messaging.events
            (event_id, event_type, schema_version, correlation_id, causation_id, aggregate_type,
             aggregate_id, aggregate_version, occurred_at, data, published_at)
         VALUES ($1, $2, 1, $1, NULL, 'user', $3, $4, now(), $5, now())",
        &[&id, &event_type.as_str(), &user, &version, &data],
    )
    .await?;
    Ok(())
}

/// Makes `email` an admin: creates the account with `password` when there is none, or gives an
/// existing account the admin role (its password is left as it is). Safe to run again.
pub async fn ensure_admin(
    db_url: &str,
    email: &str,
    password: &str,
    full_name: &str,
) -> anyhow::Result<Outcome> {
    let registration = Registration::parse(RegisterRequest {
        email: email.to_owned(),
        password: password.to_owned(),
        full_name: full_name.to_owned(),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut db = connect(db_url).await?;
    let tx = db.transaction().await?;
    let existing = tx
        .query_opt(
            "SELECT id FROM users.users WHERE email = $1 FOR UPDATE",
            &[&registration.email.as_str()],
        )
        .await?;
    if existing.is_some() {
        drop(tx);
        return set_role(db_url, email, Role::Admin).await;
    }
    let id = uuid::Uuid::new_v4();
    let salt = uuid::Uuid::new_v4();
    let hash = identity::hash_password(&registration.password, salt.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    tx.execute(
        "INSERT INTO users.users (id, email, password_hash, full_name, role)
         VALUES ($1, $2, $3, $4, 'admin')",
        &[
            &id,
            &registration.email.as_str(),
            &hash,
            &registration.full_name,
        ],
    )
    .await?;
    record(
        &tx,
        id,
        EventType::UserRegistered,
        serde_json::json!({ "user_id": id, "email": registration.email.as_str(), "by": "operator" }),
    )
    .await?;
    record(
        &tx,
        id,
        EventType::UserRoleChanged,
        serde_json::json!({ "user_id": id, "role": Role::Admin.as_str(), "by": "operator" }),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Created {
        email: registration.email.as_str().to_owned(),
    })
}

/// Gives the existing account `email` the admin role.
pub async fn grant(db_url: &str, email: &str) -> anyhow::Result<Outcome> {
    set_role(db_url, email, Role::Admin).await
}

/// Takes the admin role from `email`: every request with one of its tokens is a customer's from
/// now on (the role is checked on each request that claims it).
pub async fn revoke(db_url: &str, email: &str) -> anyhow::Result<Outcome> {
    set_role(db_url, email, Role::Customer).await
}

async fn set_role(db_url: &str, email: &str, role: Role) -> anyhow::Result<Outcome> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let mut db = connect(db_url).await?;
    let tx = db.transaction().await?;
    let Some(row) = tx
        .query_opt(
            "SELECT id, role FROM users.users WHERE email = $1 FOR UPDATE",
            &[&email.as_str()],
        )
        .await?
    else {
        bail!(
            "there is no account {}: create it with `spincart-admin create`",
            email.as_str()
        );
    };
    let id: uuid::Uuid = row.get(0);
    let current: String = row.get(1);
    let email = email.as_str().to_owned();
    if current == role.as_str() {
        return Ok(Outcome::Unchanged { email, role });
    }
    tx.execute(
        "UPDATE users.users SET role = $2 WHERE id = $1",
        &[&id, &role.as_str()],
    )
    .await?;
    record(
        &tx,
        id,
        EventType::UserRoleChanged,
        serde_json::json!({ "user_id": id, "role": role.as_str(), "by": "operator" }),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Changed { email, role })
}

/// The admins' e-mails, in order.
pub async fn admins(db_url: &str) -> anyhow::Result<Vec<String>> {
    let db = connect(db_url).await?;
    Ok(db
        .query(
            "SELECT email FROM users.users WHERE role = 'admin' ORDER BY email",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// A new random password (24 characters from a 62-letter alphabet: about 142 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let random: Vec<u8> = (0..2)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect();
    random
        .iter()
        .take(24)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            without_password("postgres://app:s3cret@db:5432/shop"),
            "postgres://app@db:5432/shop"
        );
        assert_eq!(
            without_password("postgres://spincart@127.0.0.1:15432/spincart"),
            "postgres://spincart@127.0.0.1:15432/spincart"
        );
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password();
        assert_eq!(a.chars().count(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, generate_password());
    }
}
