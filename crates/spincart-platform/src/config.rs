//! Component settings, read from Spin variables (`[component.X.variables]` in spin.toml, which
//! refer to the app's `[variables]`).

/// A required setting is missing or malformed: a deployment error, not a client error.
#[derive(Debug, thiserror::Error)]
#[error("setting {name:?}: {message}")]
pub struct ConfigError {
    pub name: String,
    pub message: String,
}

/// The value of variable `name`.
pub fn require(name: &str) -> Result<String, ConfigError> {
    spin_sdk::variables::get(name).map_err(|e| ConfigError {
        name: name.to_owned(),
        message: e.to_string(),
    })
}

/// The value of variable `name` parsed as `T`.
pub fn parse<T: std::str::FromStr>(name: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let text = require(name)?;
    text.trim().parse().map_err(|e: T::Err| ConfigError {
        name: name.to_owned(),
        message: format!("{text:?} is not valid: {e}"),
    })
}

/// The key that signs access tokens (`jwt_secret`), refused — with the reason in the log and an
/// opaque 500 to the client — when it is too short to resist guessing (under 32 bytes) or is a
/// known placeholder ([`spincart_domain::auth::check_signing_key`]): no token is signed or
/// accepted with a weak key.
pub fn jwt_secret() -> Result<String, ConfigError> {
    let key = require("jwt_secret")?;
    spincart_domain::auth::check_signing_key(&key).map_err(|message| ConfigError {
        name: "jwt_secret".into(),
        message,
    })?;
    Ok(key)
}
