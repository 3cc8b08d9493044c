//! Access tokens: HS256 JSON Web Tokens with `sub` (user id), `role` and `exp`.
//!
//! Signing and checking are pure functions of the token, the secret and the current time, so
//! every rule (expiry, forgery, malformed input) is unit-tested here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ids::UserId;

/// What a caller may do: customers touch their own carts and orders, admins everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }
}

/// The fewest bytes a token signing key may have (HS256 wants a key as long as its hash).
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

/// Whether `key` may sign tokens: at least [`MIN_SIGNING_KEY_BYTES`], not one character
/// repeated, and not a placeholder from an example (`CHANGE_ME_JWT_SECRET`, `changeme`…).
pub fn check_signing_key(key: &str) -> Result<(), String> {
    let how = "generate one with `openssl rand -hex 32`";
    if key.len() < MIN_SIGNING_KEY_BYTES {
        return Err(format!(
            "is {} bytes; it must have at least {MIN_SIGNING_KEY_BYTES} ({how})",
            key.len()
        ));
    }
    let folded: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    const PLACEHOLDERS: [&str; 6] = [
        "changeme",
        "replaceme",
        "yoursecret",
        "placeholder",
        "example",
        "secretkey",
    ];
    if PLACEHOLDERS.iter().any(|p| folded.contains(p)) {
        return Err(format!("is a placeholder, not a secret ({how})"));
    }
    let mut chars = key.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err(format!("is one character repeated ({how})"));
    }
    Ok(())
}

/// Who issues spincart's tokens (`iss`), and for what (`aud`): a token signed with the same key
/// for another purpose or service is refused.
pub const ISSUER: &str = "spincart";
pub const AUDIENCE: &str = "spincart-api";

/// The longest a token may live (`token_ttl_seconds` is clamped to 60 s … this).
pub const MAX_TOKEN_TTL_SECONDS: i64 = 86_400;

/// The claims spincart puts in a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: UserId,
    pub role: Role,
    pub email: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
}

impl Claims {
    /// A token's claims for `sub`, issued at `iat` (seconds since the epoch), living `ttl`
    /// seconds (clamped to 60 … [`MAX_TOKEN_TTL_SECONDS`]).
    pub fn new(sub: UserId, role: Role, email: impl Into<String>, iat: i64, ttl: i64) -> Claims {
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub,
            role,
            email: email.into(),
            iat,
            exp: iat + ttl.clamp(60, MAX_TOKEN_TTL_SECONDS),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller may see a resource owned by `owner`: its owner or an admin.
    pub fn can_access(&self, owner: UserId) -> bool {
        self.is_admin() || self.user_id == owner
    }
}

/// Why a token was refused. Every case is a 401 to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported token algorithm")]
    UnsupportedAlgorithm,
    #[error("invalid token signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not issued by spincart for its API")]
    WrongAudience,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs `claims` with `secret`.
pub fn sign(claims: &Claims, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(
        mac(secret, signing_input.as_bytes())
            .finalize()
            .into_bytes(),
    );
    format!("{signing_input}.{signature}")
}

/// Checks signature, algorithm and expiry; `now` is seconds since the Unix epoch.
pub fn verify(token: &str, secret: &[u8], now: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };

    #[derive(Deserialize)]
    struct Header {
        alg: String,
    }
    let header_json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)?;
    let parsed: Header = serde_json::from_slice(&header_json).map_err(|_| TokenError::Malformed)?;
    if parsed.alg != "HS256" {
        return Err(TokenError::UnsupportedAlgorithm);
    }

    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let signing_input = &token[..header.len() + 1 + payload.len()];
    mac(secret, signing_input.as_bytes())
        .verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;

    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.iss != ISSUER || claims.aud != AUDIENCE {
        return Err(TokenError::WrongAudience);
    }
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// The token from an `Authorization: Bearer <token>` header value.
pub fn bearer_token(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn mac(secret: &[u8], data: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(data);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    fn claims(exp: i64) -> Claims {
        Claims {
            exp,
            ..Claims::new(
                UserId::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427").unwrap(),
                Role::Customer,
                "ann@example.com",
                1_000,
                60,
            )
        }
    }

    #[test]
    fn a_token_for_another_issuer_or_audience_is_refused() {
        for (iss, aud) in [("someone-else", AUDIENCE), (ISSUER, "another-service")] {
            let token = sign(
                &Claims {
                    iss: iss.into(),
                    aud: aud.into(),
                    ..claims(2_000)
                },
                SECRET,
            );
            assert_eq!(
                verify(&token, SECRET, 1_500),
                Err(TokenError::WrongAudience)
            );
        }
    }

    #[test]
    fn a_token_lives_at_most_a_day() {
        let user = UserId::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427").unwrap();
        let long = Claims::new(user, Role::Customer, "a@b.c", 1_000, 10_000_000);
        assert_eq!(long.exp, 1_000 + MAX_TOKEN_TTL_SECONDS);
        assert_eq!(
            Claims::new(user, Role::Customer, "a@b.c", 1_000, 0).exp,
            1_060
        );
    }

    #[test]
    fn a_signing_key_must_be_long_and_no_placeholder() {
        assert!(check_signing_key(&"ab12".repeat(8)).is_ok());
        assert!(check_signing_key("0f9c2e7d41b8a6530f9c2e7d41b8a653").is_ok());
        for weak in [
            "",
            "secret",
            "0f9c2e7d41b8a6530f9c2e7d41b8a65",
            "CHANGE_ME_JWT_SECRET_CHANGE_ME_JWT_SECRET",
            "please-replace-me-with-something-long",
            "your-secret-goes-here-0123456789abcdef",
            &"x".repeat(64),
        ] {
            let refused = check_signing_key(weak).unwrap_err();
            assert!(
                refused.contains("openssl rand -hex 32"),
                "{weak:?}: {refused}"
            );
        }
    }

    #[test]
    fn a_signed_token_verifies_before_it_expires() {
        let token = sign(&claims(2_000), SECRET);
        assert_eq!(verify(&token, SECRET, 1_999).unwrap(), claims(2_000));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = sign(&claims(2_000), SECRET);
        assert_eq!(verify(&token, SECRET, 2_000), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = sign(&claims(2_000), b"someone-else");
        assert_eq!(verify(&token, SECRET, 1_500), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_whose_claims_were_edited_is_refused() {
        let token = sign(&claims(2_000), SECRET);
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims(2_000);
        forged.role = Role::Admin;
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        parts[1] = &forged_payload;
        assert_eq!(
            verify(&parts.join("."), SECRET, 1_500),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(2_000)).unwrap());
        let token = format!("{header}.{payload}.");
        assert_eq!(
            verify(&token, SECRET, 1_500),
            Err(TokenError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn garbage_is_malformed() {
        for token in ["", "abc", "a.b", "a.b.c.d", "!!.??.**"] {
            assert_eq!(
                verify(token, SECRET, 0),
                Err(TokenError::Malformed),
                "{token}"
            );
        }
    }

    #[test]
    fn bearer_tokens_are_taken_from_the_authorization_header() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("abc"), None);
    }

    #[test]
    fn owners_and_admins_can_access_a_resource_others_cannot() {
        let owner = UserId::new();
        let customer = Caller {
            user_id: owner,
            role: Role::Customer,
        };
        let stranger = Caller {
            user_id: UserId::new(),
            role: Role::Customer,
        };
        let admin = Caller {
            user_id: UserId::new(),
            role: Role::Admin,
        };
        assert!(customer.can_access(owner));
        assert!(!stranger.can_access(owner));
        assert!(admin.can_access(owner));
    }
}
