//! Typed identifiers. Every id is a UUID on the wire and in storage, but a `CartId` can never be
//! passed where an `OrderId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new random (v4) id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// Parses the canonical text form; any other text is an error.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                Uuid::parse_str(text).map(Self).map_err(|_| InvalidId)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

/// The text was not a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a UUID")]
pub struct InvalidId;

id_type!(
    /// A registered user.
    UserId
);
id_type!(
    /// A catalog product (also the key of its inventory record).
    ProductId
);
id_type!(
    /// A shopping cart.
    CartId
);
id_type!(
    /// An order.
    OrderId
);
id_type!(
    /// A checkout saga; also the correlation id of every event the checkout causes.
    SagaId
);
id_type!(
    /// A payment with the simulated provider.
    PaymentId
);
id_type!(
    /// A shipment with the simulated carrier.
    ShipmentId
);
id_type!(
    /// An event in the event store.
    EventId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_canonical_text_form_and_prints_it_back() {
        let text = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
        let id = CartId::parse(text).unwrap();
        assert_eq!(id.to_string(), text);
    }

    #[test]
    fn rejects_text_that_is_not_a_uuid() {
        assert_eq!(OrderId::parse("42"), Err(InvalidId));
        assert_eq!(OrderId::parse(""), Err(InvalidId));
    }

    #[test]
    fn serializes_as_a_bare_uuid_string() {
        let id = UserId::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"1b4e28ba-2fa1-11d2-883f-0016d3cca427\""
        );
    }
}
