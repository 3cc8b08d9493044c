//! Shipping with the simulated carrier: the shipping address a checkout takes, the carrier's
//! answers, and the event-sourced shipment.
//!
//! The carrier is deterministic, like the payment provider's test tokens. What it does depends
//! on the address's first line (compared without case or surrounding spaces):
//!
//! | `line1` | the carrier |
//! |---|---|
//! | `1 Book Street` (or any other address) | books the shipment and gives a tracking number |
//! | `2 Reject Road` | rejects it: it does not deliver there |
//! | `3 Flaky Lane` | fails with a carrier error on the first attempt, then books |
//! | `4 Silent Way` | never answers (the saga's step deadline deals with it) |
//!
//! A shipment is `requested`, then `booked` (`shipment.created`) or `rejected`; a booked one is
//! `shipped` when the order ships (handed to the carrier), or `cancelled` by the saga's "cancel
//! shipment" compensation. Cancelling one that is still waiting for the carrier withdraws the
//! request.

use serde::{Deserialize, Serialize};

use crate::events::EventType;
use crate::ids::{OrderId, SagaId, ShipmentId};
use crate::validation::{required_text, ValidationErrors};

/// The test addresses' first lines (see the module documentation).
pub const BOOKS: &str = "1 Book Street";
pub const REJECTS: &str = "2 Reject Road";
pub const FLAKY: &str = "3 Flaky Lane";
pub const SILENT: &str = "4 Silent Way";

/// ISO 3166-1 alpha-2 country codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
    DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU \
    ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ \
    LA LB LC LI LK LR LS LT LU LV LY \
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
    NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
    RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ \
    VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Where an order goes: validated, trimmed, the country upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

/// A shipping address as a request gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingAddressInput {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

impl ShippingAddressInput {
    /// Checks every field; errors name the field under `prefix` (`shipping_address.city`).
    pub fn validate(&self, prefix: &str) -> Result<ShippingAddress, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let field = |name: &str| format!("{prefix}.{name}");
        let name = errors.check(&field("name"), required_text(&self.name, 100));
        let line1 = errors.check(&field("line1"), required_text(&self.line1, 200));
        let line2 = match self.line2.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(text) => errors
                .check(&field("line2"), required_text(text, 200))
                .map(Some),
        };
        let city = errors.check(&field("city"), required_text(&self.city, 100));
        let postal_code = errors.check(&field("postal_code"), postal_code(&self.postal_code));
        let country = errors.check(&field("country"), country(&self.country));
        match (name, line1, line2, city, postal_code, country) {
            (
                Some(name),
                Some(line1),
                Some(line2),
                Some(city),
                Some(postal_code),
                Some(country),
            ) if errors.is_empty() => Ok(ShippingAddress {
                name,
                line1,
                line2,
                city,
                postal_code,
                country,
            }),
            _ => Err(errors),
        }
    }
}

/// 1 to 16 letters, digits, spaces or '-', starting and ending with a letter or digit
/// (openapi.yaml: `^[A-Za-z0-9]([A-Za-z0-9 -]{0,14}[A-Za-z0-9])?$`); kept upper-case.
fn postal_code(value: &str) -> Result<String, String> {
    let chars: Vec<char> = value.chars().collect();
    let edge = |c: Option<&char>| c.is_some_and(char::is_ascii_alphanumeric);
    let ok = (1..=16).contains(&chars.len())
        && edge(chars.first())
        && edge(chars.last())
        && chars
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == ' ' || *c == '-');
    if ok {
        Ok(value.to_ascii_uppercase())
    } else {
        Err("must be 1 to 16 letters, digits, spaces or '-', starting and ending with a letter or digit".into())
    }
}

/// An ISO 3166-1 alpha-2 code, in capitals.
fn country(value: &str) -> Result<String, String> {
    if value.len() == 2 && COUNTRIES.split_ascii_whitespace().any(|c| c == value) {
        Ok(value.to_owned())
    } else {
        Err("must be an ISO 3166-1 alpha-2 country code in capitals, e.g. \"US\" or \"GB\"".into())
    }
}

/// What the carrier does with one booking attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarrierAnswer {
    Booked {
        tracking_number: String,
    },
    Rejected(String),
    /// A carrier error: worth retrying.
    Error(String),
    /// No answer at all.
    NoAnswer,
}

/// The simulated carrier's answer to attempt number `attempt` (1-based) to book `shipment`.
pub fn book(address: &ShippingAddress, shipment: ShipmentId, attempt: u32) -> CarrierAnswer {
    let line1 = address.line1.trim();
    let is = |test: &str| line1.eq_ignore_ascii_case(test);
    let booked = || CarrierAnswer::Booked {
        tracking_number: tracking_number(shipment),
    };
    if is(REJECTS) {
        CarrierAnswer::Rejected("the carrier does not deliver to this address".into())
    } else if is(FLAKY) && attempt <= 1 {
        CarrierAnswer::Error("carrier error (transient)".into())
    } else if is(SILENT) {
        CarrierAnswer::NoAnswer
    } else {
        booked()
    }
}

/// The tracking number the carrier gives a shipment: `SC` and 12 hex digits of its id.
pub fn tracking_number(shipment: ShipmentId) -> String {
    let hex = shipment.as_uuid().simple().to_string().to_ascii_uppercase();
    format!("SC{}", &hex[..12])
}

/// Where a shipment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Asked of the carrier, no answer yet.
    Requested,
    Booked,
    Rejected,
    Cancelled,
    /// Handed to the carrier with the order.
    Shipped,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 5] = [
        ShipmentStatus::Requested,
        ShipmentStatus::Booked,
        ShipmentStatus::Rejected,
        ShipmentStatus::Cancelled,
        ShipmentStatus::Shipped,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ShipmentStatus::Requested => "requested",
            ShipmentStatus::Booked => "booked",
            ShipmentStatus::Rejected => "rejected",
            ShipmentStatus::Cancelled => "cancelled",
            ShipmentStatus::Shipped => "shipped",
        }
    }

    pub fn parse(text: &str) -> Option<ShipmentStatus> {
        ShipmentStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the carrier holds (or may hold) a booking for it.
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            ShipmentStatus::Requested | ShipmentStatus::Booked | ShipmentStatus::Shipped
        )
    }
}

/// What happened to a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShipmentEvent {
    Requested {
        shipment_id: ShipmentId,
        order_id: OrderId,
        saga_id: SagaId,
        address: ShippingAddress,
    },
    Booked {
        tracking_number: String,
    },
    Rejected {
        reason: String,
    },
    Cancelled {
        reason: String,
    },
    Shipped,
}

impl ShipmentEvent {
    /// The event type (and Redis channel) this event is stored and published as.
    pub fn event_type(&self) -> EventType {
        match self {
            ShipmentEvent::Requested { .. } => EventType::ShipmentRequested,
            ShipmentEvent::Booked { .. } => EventType::ShipmentCreated,
            ShipmentEvent::Rejected { .. } => EventType::ShipmentRejected,
            ShipmentEvent::Cancelled { .. } => EventType::ShipmentCancelled,
            ShipmentEvent::Shipped => EventType::ShipmentShipped,
        }
    }
}

/// What may be asked of a shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipmentCommand {
    Book {
        tracking_number: String,
    },
    Reject {
        reason: String,
    },
    Cancel {
        reason: String,
    },
    /// Hand the booked shipment to the carrier (the order ships).
    HandOver,
}

/// Why a shipment refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentError {
    #[error("The shipment has left with the carrier; it cannot be cancelled.")]
    AlreadyShipped,
    #[error("The shipment is {status}; it cannot be {1}.", status = .0.as_str())]
    InvalidTransition(ShipmentStatus, &'static str),
}

/// The state of a shipment, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub id: ShipmentId,
    pub order_id: OrderId,
    pub saga_id: SagaId,
    pub address: ShippingAddress,
    pub status: ShipmentStatus,
    pub tracking_number: Option<String>,
    pub reason: Option<String>,
    /// The version of the last event applied (1 after `Requested`).
    pub version: i64,
}

impl Shipment {
    /// The shipment its first event creates.
    pub fn requested(event: &ShipmentEvent) -> Option<Shipment> {
        match event {
            ShipmentEvent::Requested {
                shipment_id,
                order_id,
                saga_id,
                address,
            } => Some(Shipment {
                id: *shipment_id,
                order_id: *order_id,
                saga_id: *saga_id,
                address: address.clone(),
                status: ShipmentStatus::Requested,
                tracking_number: None,
                reason: None,
                version: 1,
            }),
            _ => None,
        }
    }

    /// Rebuilds a shipment from its events, oldest first.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = &'a ShipmentEvent>,
    ) -> Option<Shipment> {
        let mut events = events.into_iter();
        let mut shipment = Shipment::requested(events.next()?)?;
        for event in events {
            shipment.apply(event);
        }
        Some(shipment)
    }

    /// Changes the state as `event` says.
    pub fn apply(&mut self, event: &ShipmentEvent) {
        match event {
            ShipmentEvent::Requested { .. } => {}
            ShipmentEvent::Booked { tracking_number } => {
                self.status = ShipmentStatus::Booked;
                self.tracking_number = Some(tracking_number.clone());
            }
            ShipmentEvent::Rejected { reason } => {
                self.status = ShipmentStatus::Rejected;
                self.reason = Some(reason.clone());
            }
            ShipmentEvent::Cancelled { reason } => {
                self.status = ShipmentStatus::Cancelled;
                self.reason = Some(reason.clone());
            }
            ShipmentEvent::Shipped => self.status = ShipmentStatus::Shipped,
        }
        self.version += 1;
    }

    /// Decides the events `command` produces; an empty list means there is nothing to do.
    pub fn handle(&self, command: &ShipmentCommand) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        use ShipmentStatus::*;
        match (self.status, command) {
            (Requested, ShipmentCommand::Book { tracking_number }) => {
                Ok(vec![ShipmentEvent::Booked {
                    tracking_number: tracking_number.clone(),
                }])
            }
            (Booked, ShipmentCommand::Book { .. }) => Ok(vec![]),
            (status, ShipmentCommand::Book { .. }) => {
                Err(ShipmentError::InvalidTransition(status, "booked"))
            }
            (Requested, ShipmentCommand::Reject { reason }) => Ok(vec![ShipmentEvent::Rejected {
                reason: reason.clone(),
            }]),
            (Rejected, ShipmentCommand::Reject { .. }) => Ok(vec![]),
            (status, ShipmentCommand::Reject { .. }) => {
                Err(ShipmentError::InvalidTransition(status, "rejected"))
            }
            (Requested | Booked, ShipmentCommand::Cancel { reason }) => {
                Ok(vec![ShipmentEvent::Cancelled {
                    reason: reason.clone(),
                }])
            }
            (Rejected | Cancelled, ShipmentCommand::Cancel { .. }) => Ok(vec![]),
            (Shipped, ShipmentCommand::Cancel { .. }) => Err(ShipmentError::AlreadyShipped),
            (Booked, ShipmentCommand::HandOver) => Ok(vec![ShipmentEvent::Shipped]),
            (Shipped, ShipmentCommand::HandOver) => Ok(vec![]),
            (status, ShipmentCommand::HandOver) => {
                Err(ShipmentError::InvalidTransition(status, "shipped"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(line1: &str) -> ShippingAddressInput {
        ShippingAddressInput {
            name: "Ada Lovelace".into(),
            line1: line1.into(),
            line2: None,
            city: "London".into(),
            postal_code: "n1 9gu".into(),
            country: "GB".into(),
        }
    }

    fn address(line1: &str) -> ShippingAddress {
        input(line1).validate("shipping_address").unwrap()
    }

    #[test]
    fn a_valid_address_is_trimmed_and_normalised() {
        let mut raw = input("  12 High Street ");
        raw.line2 = Some("   ".into());
        let a = raw.validate("shipping_address").unwrap();
        assert_eq!(a.line1, "12 High Street");
        assert_eq!(a.line2, None);
        assert_eq!(a.postal_code, "N1 9GU");
        assert_eq!(a.country, "GB");
    }

    #[test]
    fn every_bad_field_is_named_under_the_prefix() {
        let raw = ShippingAddressInput {
            name: " ".into(),
            line1: "".into(),
            line2: Some("x".repeat(201)),
            city: "".into(),
            postal_code: "12345!".into(),
            country: "XX".into(),
        };
        let errors = raw.validate("shipping_address").unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "shipping_address.name",
                "shipping_address.line1",
                "shipping_address.line2",
                "shipping_address.city",
                "shipping_address.postal_code",
                "shipping_address.country"
            ]
        );
    }

    #[test]
    fn the_country_list_has_every_iso_code_once() {
        let codes: Vec<&str> = COUNTRIES.split_ascii_whitespace().collect();
        assert_eq!(codes.len(), 249);
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, codes, "sorted and unique");
        assert!(country("US").is_ok());
        for bad in ["us", "USA", "ZZ", " US", ""] {
            assert!(country(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_postal_code_starts_and_ends_with_a_letter_or_digit() {
        for good in ["N1 9GU", "10115", "a", "1234-567", "SW1A 1AA"] {
            assert!(postal_code(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            " N1",
            "N1 ",
            "-1",
            "N1!",
            "12345678901234567",
            "\u{e9}1",
        ] {
            assert!(postal_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_test_address_behaves_as_documented() {
        let id = ShipmentId::new();
        let booked = CarrierAnswer::Booked {
            tracking_number: tracking_number(id),
        };
        assert_eq!(book(&address(BOOKS), id, 1), booked);
        assert_eq!(book(&address("221B Baker Street"), id, 1), booked);
        assert!(matches!(
            book(&address(REJECTS), id, 1),
            CarrierAnswer::Rejected(_)
        ));
        assert!(matches!(
            book(&address("  3 flaky lane "), id, 1),
            CarrierAnswer::Error(_)
        ));
        assert_eq!(book(&address(FLAKY), id, 2), booked);
        assert_eq!(book(&address(SILENT), id, 3), CarrierAnswer::NoAnswer);
    }

    #[test]
    fn a_tracking_number_is_sc_and_twelve_hex_digits() {
        let n = tracking_number(ShipmentId::new());
        assert_eq!(n.len(), 14);
        assert!(n.starts_with("SC") && n[2..].chars().all(|c| c.is_ascii_hexdigit()));
    }

    fn requested() -> Shipment {
        Shipment::requested(&ShipmentEvent::Requested {
            shipment_id: ShipmentId::new(),
            order_id: OrderId::new(),
            saga_id: SagaId::new(),
            address: address(BOOKS),
        })
        .unwrap()
    }

    fn after(events: &[ShipmentEvent]) -> Shipment {
        let mut s = requested();
        for e in events {
            s.apply(e);
        }
        s
    }

    #[test]
    fn a_requested_shipment_is_booked_then_shipped() {
        let mut s = requested();
        let book = ShipmentCommand::Book {
            tracking_number: "SC1".into(),
        };
        for e in s.handle(&book).unwrap() {
            s.apply(&e);
        }
        assert_eq!(s.status, ShipmentStatus::Booked);
        assert_eq!(s.tracking_number.as_deref(), Some("SC1"));
        assert_eq!(s.handle(&book).unwrap(), vec![], "booking twice is a no-op");
        assert_eq!(
            s.handle(&ShipmentCommand::HandOver).unwrap(),
            vec![ShipmentEvent::Shipped]
        );
        assert_eq!(s.version, 2);
    }

    #[test]
    fn cancelling_withdraws_a_request_or_a_booking_and_never_a_shipped_one() {
        let cancel = ShipmentCommand::Cancel { reason: "x".into() };
        assert_eq!(requested().handle(&cancel).unwrap().len(), 1);
        let booked = after(&[ShipmentEvent::Booked {
            tracking_number: "SC1".into(),
        }]);
        assert_eq!(booked.handle(&cancel).unwrap().len(), 1);
        let rejected = after(&[ShipmentEvent::Rejected { reason: "r".into() }]);
        assert_eq!(rejected.handle(&cancel).unwrap(), vec![], "nothing to undo");
        let shipped = after(&[
            ShipmentEvent::Booked {
                tracking_number: "SC1".into(),
            },
            ShipmentEvent::Shipped,
        ]);
        assert_eq!(shipped.handle(&cancel), Err(ShipmentError::AlreadyShipped));
    }

    #[test]
    fn only_a_booked_shipment_can_be_handed_over() {
        assert_eq!(
            requested().handle(&ShipmentCommand::HandOver),
            Err(ShipmentError::InvalidTransition(
                ShipmentStatus::Requested,
                "shipped"
            ))
        );
        let cancelled = after(&[ShipmentEvent::Cancelled { reason: "c".into() }]);
        assert!(cancelled.handle(&ShipmentCommand::HandOver).is_err());
    }

    #[test]
    fn live_shipments_are_those_the_carrier_may_hold() {
        let live: Vec<_> = ShipmentStatus::ALL
            .into_iter()
            .filter(ShipmentStatus::is_live)
            .collect();
        assert_eq!(
            live,
            [
                ShipmentStatus::Requested,
                ShipmentStatus::Booked,
                ShipmentStatus::Shipped
            ]
        );
    }
}
