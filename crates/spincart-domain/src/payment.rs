//! Payments with the simulated provider. Deterministic, like card networks' test tokens:
//!
//! | token | the provider |
//! |---|---|
//! | `tok_visa` | authorizes |
//! | `tok_decline` | declines |
//! | `tok_error` | fails with a provider error on every attempt |
//! | `tok_flaky` | fails the first attempt, then authorizes |
//! | `tok_timeout` | never answers |
//!
//! Any other token is declined as unknown. Authorizations are captured when the order is
//! confirmed; a compensation voids an authorization, refunds a capture (the whole captured
//! amount) or cancels an authorization still waiting for an answer.

use serde::{Deserialize, Serialize};

/// What the provider does with one authorization attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderAnswer {
    Authorized,
    Declined(String),
    /// A provider error: worth retrying.
    Error(String),
    /// No answer at all (the saga's step deadline deals with it).
    NoAnswer,
}

/// The simulated provider's answer to attempt number `attempt` (1-based) for `token`.
pub fn authorize(token: &str, attempt: u32) -> ProviderAnswer {
    match token {
        "tok_visa" => ProviderAnswer::Authorized,
        "tok_decline" => ProviderAnswer::Declined("card declined".into()),
        "tok_error" => ProviderAnswer::Error("payment provider error".into()),
        "tok_flaky" if attempt <= 1 => {
            ProviderAnswer::Error("payment provider error (transient)".into())
        }
        "tok_flaky" => ProviderAnswer::Authorized,
        "tok_timeout" => ProviderAnswer::NoAnswer,
        _ => ProviderAnswer::Declined("unknown payment token".into()),
    }
}

/// Checks a payment token's shape (the provider decides the rest).
pub fn check_token(token: &str) -> Result<(), String> {
    let ok = !token.is_empty()
        && token.len() <= 100
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 100 letters, digits, '_' or '-', e.g. \"tok_visa\"".into())
    }
}

/// Where a payment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Asked for, no answer yet.
    Pending,
    Authorized,
    Declined,
    Captured,
    Voided,
    Refunded,
    /// A pending authorization given up on.
    Cancelled,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Voided => "voided",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentStatus> {
        use PaymentStatus::*;
        [
            Pending, Authorized, Declined, Captured, Voided, Refunded, Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What undoing a payment means, given where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undo {
    Void,
    Refund,
    CancelPending,
    /// Nothing was taken (declined, already undone, or never asked for).
    Nothing,
}

pub fn undo(status: Option<PaymentStatus>) -> Undo {
    match status {
        Some(PaymentStatus::Authorized) => Undo::Void,
        Some(PaymentStatus::Captured) => Undo::Refund,
        Some(PaymentStatus::Pending) => Undo::CancelPending,
        _ => Undo::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_test_token_behaves_as_documented() {
        assert_eq!(authorize("tok_visa", 1), ProviderAnswer::Authorized);
        assert!(matches!(
            authorize("tok_decline", 1),
            ProviderAnswer::Declined(_)
        ));
        for attempt in 1..=5 {
            assert!(matches!(
                authorize("tok_error", attempt),
                ProviderAnswer::Error(_)
            ));
        }
        assert_eq!(authorize("tok_timeout", 1), ProviderAnswer::NoAnswer);
        assert!(matches!(
            authorize("tok_whatever", 1),
            ProviderAnswer::Declined(_)
        ));
    }

    #[test]
    fn a_flaky_token_fails_once_then_authorizes() {
        assert!(matches!(
            authorize("tok_flaky", 1),
            ProviderAnswer::Error(_)
        ));
        assert_eq!(authorize("tok_flaky", 2), ProviderAnswer::Authorized);
        assert_eq!(authorize("tok_flaky", 3), ProviderAnswer::Authorized);
    }

    #[test]
    fn undoing_depends_on_how_far_the_payment_went() {
        assert_eq!(undo(Some(PaymentStatus::Authorized)), Undo::Void);
        assert_eq!(undo(Some(PaymentStatus::Captured)), Undo::Refund);
        assert_eq!(undo(Some(PaymentStatus::Pending)), Undo::CancelPending);
        for nothing in [
            None,
            Some(PaymentStatus::Declined),
            Some(PaymentStatus::Voided),
            Some(PaymentStatus::Refunded),
        ] {
            assert_eq!(undo(nothing), Undo::Nothing);
        }
    }

    #[test]
    fn tokens_are_checked_for_shape_only() {
        assert!(check_token("tok_visa").is_ok());
        assert!(check_token("").is_err());
        assert!(check_token("tok visa").is_err());
        assert!(check_token(&"x".repeat(101)).is_err());
    }
}
