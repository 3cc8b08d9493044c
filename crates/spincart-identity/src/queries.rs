//! SQL of the identity context (schema `users`).

use spincart_domain::auth::Role;
use spincart_domain::identity::Email;
use spincart_domain::ids::UserId;

use spincart_platform::db::{self, Db, DbError};

/// A stored user.
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    /// What the user may do, as an operator set it (`spincart-admin`): a customer unless made
    /// an admin.
    pub role: Role,
}

/// Inserts a user; `Ok(false)` when the e-mail is taken.
pub fn insert_user(
    db: &Db,
    id: UserId,
    email: &Email,
    password_hash: &str,
    full_name: &str,
) -> Result<bool, DbError> {
    // A taken e-mail is an outcome (no row inserted), not an error: see migration 0007.
    let inserted = db.execute(
        "INSERT INTO users.users (id, email, password_hash, full_name) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT users_email_unique DO NOTHING",
        &[
            db::uuid(id),
            db::text(email.as_str()),
            db::text(password_hash),
            db::text(full_name),
        ],
    )?;
    Ok(inserted == 1)
}

pub fn find_by_email(db: &Db, email: &Email) -> Result<Option<UserRow>, DbError> {
    db.query_opt(
        "SELECT id, email, full_name, password_hash, role FROM users.users WHERE email = $1",
        &[db::text(email.as_str())],
    )?
    .map(|r| user(r.row()))
    .transpose()
}

pub fn find_by_id(db: &Db, id: UserId) -> Result<Option<UserRow>, DbError> {
    db.query_opt(
        "SELECT id, email, full_name, password_hash, role FROM users.users WHERE id = $1",
        &[db::uuid(id)],
    )?
    .map(|r| user(r.row()))
    .transpose()
}

fn user(row: db::Row<'_>) -> Result<UserRow, DbError> {
    Ok(UserRow {
        id: db::id(row, 0)?,
        email: row.get(1)?,
        full_name: row.get(2)?,
        password_hash: row.get(3)?,
        role: match row.get::<String>(4)?.as_str() {
            "admin" => Role::Admin,
            _ => Role::Customer,
        },
    })
}
