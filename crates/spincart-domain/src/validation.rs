//! Field-level validation errors, as they appear in a 400 `validation_failed` response:
//! `details: [{"field": "quantity", "message": "must be between 1 and 100"}]`.

use serde::Serialize;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// All the field errors found in one input; never empty when returned as an `Err`.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("validation failed: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// A single-field error.
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records the error of `result` under `field` and gives back its value, if any.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.push(field, e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

/// A trimmed, non-empty text of at most `max` characters.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(trimmed.to_owned())
}

/// An optional text field that may be left out but not sent as `null` (what openapi.yaml says
/// of it): use with `#[serde(default, deserialize_with = "…::present_text")]`.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Patch {
///     #[serde(default, deserialize_with = "spincart_domain::validation::present_text")]
///     name: Option<String>,
/// }
/// assert_eq!(serde_json::from_str::<Patch>("{}").unwrap().name, None);
/// assert!(serde_json::from_str::<Patch>(r#"{"name": null}"#).is_err());
/// ```
pub fn present_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    <String as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Deserializes a whole number given as JSON `3` or `3.0` (both are integers to JSON Schema,
/// which the API's contract is written in); `3.5`, a string or a number outside ±2^53 is an
/// error naming what was expected.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Line {
///     #[serde(deserialize_with = "spincart_domain::validation::whole_number")]
///     quantity: i64,
/// }
/// let line: Line = serde_json::from_str(r#"{"quantity": 2.0}"#).unwrap();
/// assert_eq!(line.quantity, 2);
/// assert!(serde_json::from_str::<Line>(r#"{"quantity": 2.5}"#).is_err());
/// ```
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct WholeNumber;

    impl serde::de::Visitor<'_> for WholeNumber {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("a whole number that is too large"))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every whole f64 below is exact
            if v.fract() == 0.0 && v.abs() <= EXACT {
                Ok(v as i64)
            } else {
                Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
            }
        }
    }

    deserializer.deserialize_any(WholeNumber)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_failing_field() {
        let mut errors = ValidationErrors::new();
        let a: Option<u32> = errors.check("a", "x".parse::<u32>());
        let b: Option<u32> = errors.check("b", "7".parse::<u32>());
        assert_eq!(a, None);
        assert_eq!(b, Some(7));
        errors.push("c", "is wrong");
        assert_eq!(errors.0.len(), 2);
        assert_eq!(errors.0[0].field, "a");
        assert!(errors.finish(|| ()).is_err());
    }

    #[test]
    fn required_text_trims_and_bounds() {
        assert_eq!(required_text("  hi ", 5).unwrap(), "hi");
        assert!(required_text("   ", 5).is_err());
        assert!(required_text("abcdef", 5).is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    struct Quantity {
        #[serde(deserialize_with = "super::whole_number")]
        quantity: i64,
    }

    fn quantity(json: &str) -> Result<i64, String> {
        serde_json::from_str::<Quantity>(json)
            .map(|q| q.quantity)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_whole_number_may_be_written_with_a_zero_fraction() {
        assert_eq!(quantity(r#"{"quantity": 3}"#), Ok(3));
        assert_eq!(quantity(r#"{"quantity": 3.0}"#), Ok(3));
        assert_eq!(quantity(r#"{"quantity": -1e3}"#), Ok(-1000));
    }

    #[test]
    fn fractions_strings_and_inexact_numbers_are_not_whole_numbers() {
        assert!(quantity(r#"{"quantity": 3.5}"#)
            .unwrap_err()
            .contains("a whole number"));
        assert!(quantity(r#"{"quantity": "3"}"#).is_err());
        assert!(quantity(r#"{"quantity": 1e300}"#).is_err());
    }
}
