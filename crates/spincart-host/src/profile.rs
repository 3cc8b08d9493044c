//! How closely the host copies real Spin where real Spin is rough.
//!
//! The host exists so spincart runs and is tested without Spin; a difference that lets a bug
//! pass here and fail on Spin is a bug in the host. [`Profile::Strict`] (the default, in
//! `spincart-host up` and in every test) therefore reproduces what real Spin 4.0.2 does, each
//! item measured against the released binary:
//!
//! * a synchronous Postgres `query` that returns zero rows never returns on Spin 4.0.0–4.0.2
//!   (spinframework/spin#3671, fixed by PR #3673 after 4.0.2). Here it fails at once, with an
//!   error naming the issue, instead of hanging;
//! * an error raised while a `query` produces rows (a `RAISE` in a called function, a constraint
//!   violated by `INSERT … RETURNING`) reaches the guest as `QueryError::Text` holding the debug
//!   form of the database error — no structured SQLSTATE. Errors found before execution, and
//!   every `execute` error, stay structured;
//! * each component has Postgres pools of its own (64 connections per address each), so an app
//!   of N components can hold N × 64 connections;
//! * the Redis trigger exits when its connection drops (or cannot be made), and the whole
//!   process stops with it, HTTP included.
//!
//! [`Profile::Lenient`] is what Spin does once those are fixed upstream: empty results come
//! back, errors stay structured, one pool per address for the app, and the Redis trigger
//! reconnects. It is kinder than any released Spin: use it to compare, never to test.

use std::fmt;
use std::str::FromStr;

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// Real Spin 4.0.2's behaviour (the default).
    #[default]
    Strict,
    /// Kinder than any released Spin; for comparisons only.
    Lenient,
}

impl Profile {
    pub fn is_strict(self) -> bool {
        self == Profile::Strict
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(Profile::Strict),
            "lenient" => Ok(Profile::Lenient),
            other => Err(format!(
                "unknown profile {other:?}: expected \"strict\" (real Spin 4.0.2's behaviour) or \"lenient\""
            )),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Strict => "strict",
            Profile::Lenient => "lenient",
        })
    }
}

/// The error a strict host gives a synchronous `query` with zero rows (Spin 4.0.2 hangs).
pub const ZERO_ROW_QUERY: &str =
    "spincart-host (strict profile): this synchronous `query` returned zero rows; \
     Spin 4.0.0-4.0.2 never return from such a call and the request hangs \
     (spinframework/spin#3671). Make the statement always return a row.";

#[cfg(test)]
mod tests {
    use super::Profile;

    #[test]
    fn strict_is_the_default_and_both_names_parse() {
        assert_eq!(Profile::default(), Profile::Strict);
        assert_eq!("strict".parse::<Profile>(), Ok(Profile::Strict));
        assert_eq!("lenient".parse::<Profile>(), Ok(Profile::Lenient));
        assert!("spin".parse::<Profile>().unwrap_err().contains("strict"));
    }
}
