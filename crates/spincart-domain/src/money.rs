//! Money: integer minor units plus an ISO 4217 currency. Never a float, anywhere.
//!
//! On the wire an amount is a decimal string with exactly two decimals (`"79.99"`) next to a
//! currency code (`"USD"`); in storage it is a `bigint` of minor units next to a `char(3)`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Currencies spincart accepts: ISO 4217 codes whose minor unit is 1/100, so that every amount
/// has exactly two decimals.
const SUPPORTED_CURRENCIES: &[&str] = &[
    "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "INR", "MXN", "NOK",
    "NZD", "PLN", "SEK", "SGD", "USD", "ZAR",
];

/// The largest amount spincart handles in one value: 1 000 000 000.00.
pub const MAX_MINOR_UNITS: i64 = 100_000_000_000;

/// Why a money value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a decimal string with exactly two decimals, e.g. \"79.99\"")]
    Malformed,
    #[error("must not be negative")]
    Negative,
    #[error("must not exceed 1000000000.00")]
    TooLarge,
    #[error("must be a supported ISO 4217 currency code, e.g. \"USD\"")]
    UnsupportedCurrency,
    #[error("cannot combine amounts in {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflow")]
    Overflow,
}

/// An ISO 4217 currency code with two-decimal minor units.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        if !SUPPORTED_CURRENCIES.contains(&code) {
            return Err(MoneyError::UnsupportedCurrency);
        }
        let bytes = code.as_bytes();
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from one of SUPPORTED_CURRENCIES, which are ASCII.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative amount of money in one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// From minor units (cents). Refuses negative and oversized amounts.
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative);
        }
        if minor > MAX_MINOR_UNITS {
            return Err(MoneyError::TooLarge);
        }
        Ok(Self { minor, currency })
    }

    /// Zero in the given currency.
    pub const fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// Parses `"79.99"`: digits, a dot, exactly two digits.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        Self::from_minor(parse_decimal_amount(amount)?, currency)
    }

    pub const fn minor_units(&self) -> i64 {
        self.minor
    }

    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as a decimal string with two decimals (`"79.99"`), without the currency.
    pub fn amount(&self) -> String {
        format_minor(self.minor)
    }

    /// Sum of two amounts in the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Money::from_minor(minor, self.currency).map_err(|_| MoneyError::Overflow)
    }

    /// The amount times a count (a line total: unit price × quantity).
    pub fn times(self, count: u32) -> Result<Money, MoneyError> {
        let minor = self
            .minor
            .checked_mul(i64::from(count))
            .ok_or(MoneyError::Overflow)?;
        Money::from_minor(minor, self.currency).map_err(|_| MoneyError::Overflow)
    }

    /// Sum of many amounts; `currency` is the result's currency when `amounts` is empty.
    pub fn sum<I: IntoIterator<Item = Money>>(
        currency: Currency,
        amounts: I,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

/// `"79.99"` → `7999`. Exactly two decimals; no sign, exponent, spaces or thousands separators.
pub fn parse_decimal_amount(amount: &str) -> Result<i64, MoneyError> {
    if amount.starts_with('-') {
        return Err(MoneyError::Negative);
    }
    let (whole, fraction) = amount.split_once('.').ok_or(MoneyError::Malformed)?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.len() != 2 || !all_digits(fraction) {
        return Err(MoneyError::Malformed);
    }
    if whole.len() > 1 && whole.starts_with('0') {
        return Err(MoneyError::Malformed);
    }
    if whole.len() > 10 {
        return Err(MoneyError::TooLarge);
    }
    let whole: i64 = whole.parse().map_err(|_| MoneyError::Malformed)?;
    let fraction: i64 = fraction.parse().map_err(|_| MoneyError::Malformed)?;
    let minor = whole * 100 + fraction;
    if minor > MAX_MINOR_UNITS {
        return Err(MoneyError::TooLarge);
    }
    Ok(minor)
}

/// `7999` → `"79.99"`; `-500` → `"-5.00"`.
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(amount: &str) -> Money {
        Money::parse(amount, Currency::USD).unwrap()
    }

    #[test]
    fn parses_two_decimal_strings_into_minor_units() {
        assert_eq!(usd("79.99").minor_units(), 7999);
        assert_eq!(usd("0.01").minor_units(), 1);
        assert_eq!(usd("0.00").minor_units(), 0);
        assert_eq!(usd("1000000000.00").minor_units(), MAX_MINOR_UNITS);
    }

    #[test]
    fn refuses_anything_but_exactly_two_decimals() {
        for bad in [
            "79", "79.9", "79.999", ".99", "79.", "7 9.99", "1e3", "", "abc", "79,99", "+1.00",
            "01.00", "NaN",
        ] {
            assert_eq!(
                Money::parse(bad, Currency::USD),
                Err(MoneyError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_negative_and_oversized_amounts() {
        assert_eq!(
            Money::parse("-1.00", Currency::USD),
            Err(MoneyError::Negative)
        );
        assert_eq!(
            Money::parse("1000000000.01", Currency::USD),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Money::parse("99999999999999999999.00", Currency::USD),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn prints_exactly_two_decimals() {
        assert_eq!(usd("5.00").amount(), "5.00");
        assert_eq!(usd("0.07").amount(), "0.07");
        assert_eq!(format_minor(-505), "-5.05");
        assert_eq!(usd("79.99").to_string(), "79.99 USD");
    }

    #[test]
    fn line_totals_and_sums_are_exact() {
        // 0.10 + 0.20 is 0.30 exactly, unlike with floats.
        let total = Money::sum(Currency::USD, [usd("0.10"), usd("0.20")]).unwrap();
        assert_eq!(total.amount(), "0.30");
        assert_eq!(usd("19.99").times(3).unwrap().amount(), "59.97");
        assert_eq!(Money::sum(Currency::EUR, []).unwrap().amount(), "0.00");
    }

    #[test]
    fn refuses_to_add_different_currencies() {
        let eur = Money::parse("1.00", Currency::EUR).unwrap();
        assert_eq!(
            usd("1.00").checked_add(eur),
            Err(MoneyError::CurrencyMismatch(Currency::USD, Currency::EUR))
        );
    }

    #[test]
    fn reports_overflow_instead_of_wrapping() {
        let big = usd("1000000000.00");
        assert_eq!(big.times(2), Err(MoneyError::Overflow));
        assert_eq!(big.checked_add(usd("0.01")), Err(MoneyError::Overflow));
    }

    #[test]
    fn accepts_only_supported_currency_codes() {
        assert_eq!(Currency::parse("EUR").unwrap(), Currency::EUR);
        for bad in ["usd", "JPY", "XXX", "US", "USDD", ""] {
            assert_eq!(
                Currency::parse(bad),
                Err(MoneyError::UnsupportedCurrency),
                "{bad}"
            );
        }
    }
}
