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
}
