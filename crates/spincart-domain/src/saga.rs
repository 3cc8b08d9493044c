//! The checkout saga (choreography): its steps, each declared with its compensation, and the
//! state machine that decides what a reported fact means.
//!
//! ```text
//! PENDING ─inventory reserved→ INVENTORY_RESERVED ─payment authorized→ PAYMENT_AUTHORIZED ─shipment created→ SHIPMENT_CREATED ─order confirmed→ CONFIRMED
//!    │                              │                                      │                                    │                               │
//!    └── rejected / timeout / cancel ┴── declined / timeout / cancel ───────┴── rejected / timeout / cancel ──────┴── timeout / cancel ────────────┘ cancel
//!                                   ▼
//!                             COMPENSATING ─(compensations, in reverse step order)→ COMPENSATED (order FAILED)
//!                                   │                                             or CANCELLED (order CANCELLED)
//!                                   └─ a compensation keeps failing → COMPENSATION_FAILED (visible to admins)
//! ```
//!
//! Facts are reported by the component that produced them, in the same transaction as their
//! effect; [`Saga::decide`] says what the fact changes (and ignores duplicates, late and
//! out-of-order facts), [`Saga::apply`] changes it.

use serde::{Deserialize, Serialize};

/// The saga's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SagaStatus {
    Pending,
    InventoryReserved,
    PaymentAuthorized,
    ShipmentCreated,
    Confirmed,
    Compensating,
    Compensated,
    Cancelled,
    CompensationFailed,
}

impl SagaStatus {
    pub const ALL: [SagaStatus; 9] = [
        SagaStatus::Pending,
        SagaStatus::InventoryReserved,
        SagaStatus::PaymentAuthorized,
        SagaStatus::ShipmentCreated,
        SagaStatus::Confirmed,
        SagaStatus::Compensating,
        SagaStatus::Compensated,
        SagaStatus::Cancelled,
        SagaStatus::CompensationFailed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            SagaStatus::Pending => "PENDING",
            SagaStatus::InventoryReserved => "INVENTORY_RESERVED",
            SagaStatus::PaymentAuthorized => "PAYMENT_AUTHORIZED",
            SagaStatus::ShipmentCreated => "SHIPMENT_CREATED",
            SagaStatus::Confirmed => "CONFIRMED",
            SagaStatus::Compensating => "COMPENSATING",
            SagaStatus::Compensated => "COMPENSATED",
            SagaStatus::Cancelled => "CANCELLED",
            SagaStatus::CompensationFailed => "COMPENSATION_FAILED",
        }
    }

    pub fn parse(text: &str) -> Option<SagaStatus> {
        SagaStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Ended: nothing more will happen unless an admin steps in (or, for CONFIRMED, the order
    /// is cancelled).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            SagaStatus::Confirmed
                | SagaStatus::Compensated
                | SagaStatus::Cancelled
                | SagaStatus::CompensationFailed
        )
    }
}

/// A forward step of the saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    ReserveInventory,
    AuthorizePayment,
    CreateShipment,
    ConfirmOrder,
}

impl Step {
    pub fn as_str(&self) -> &'static str {
        match self {
            Step::ReserveInventory => "reserve_inventory",
            Step::AuthorizePayment => "authorize_payment",
            Step::CreateShipment => "create_shipment",
            Step::ConfirmOrder => "confirm_order",
        }
    }
}

/// Undoing a step (or the checkout itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compensation {
    /// Withdraw the shipment request or cancel the booking with the carrier.
    CancelShipment,
    /// Void an authorization, refund a capture, or cancel a pending authorization.
    CancelPayment,
    /// Release the order's reservations.
    ReleaseInventory,
    /// Put the cart back to ACTIVE with its lines.
    RestoreCart,
}

impl Compensation {
    pub fn as_str(&self) -> &'static str {
        match self {
            Compensation::CancelShipment => "cancel_shipment",
            Compensation::CancelPayment => "cancel_payment",
            Compensation::ReleaseInventory => "release_inventory",
            Compensation::RestoreCart => "restore_cart",
        }
    }

    pub fn parse(text: &str) -> Option<Compensation> {
        [
            Compensation::CancelShipment,
            Compensation::CancelPayment,
            Compensation::ReleaseInventory,
            Compensation::RestoreCart,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }
}

/// A step and what undoes it: the saga's definition, in step order. The checkout itself (the
/// cart going to CHECKING_OUT) is undone by restoring the cart; confirming the order, by the
/// compensations of the steps before it.
pub const STEPS: [(Step, Option<Compensation>); 4] = [
    (Step::ReserveInventory, Some(Compensation::ReleaseInventory)),
    (Step::AuthorizePayment, Some(Compensation::CancelPayment)),
    (Step::CreateShipment, Some(Compensation::CancelShipment)),
    (Step::ConfirmOrder, None),
];

/// Something that happened, reported to the saga.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    InventoryReserved,
    InventoryRejected {
        reason: String,
    },
    PaymentAuthorized,
    PaymentDeclined {
        reason: String,
    },
    ShipmentCreated,
    /// The carrier rejected the shipment (or kept failing).
    ShipmentRejected {
        reason: String,
    },
    OrderConfirmed,
    /// The current step's deadline passed and it was not re-driven (or re-driving gave up).
    StepTimedOut,
    /// The customer or an admin asked to cancel the order.
    CancelRequested,
    /// An admin asked to compensate now.
    CompensateRequested,
    Compensated(Compensation),
    CompensationFailed {
        compensation: Compensation,
        reason: String,
    },
    /// An admin asked to retry a saga that is stuck or whose compensation failed.
    RetryRequested,
}

/// What a fact changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Move forward to `to`; the next step (if any) starts.
    Advance { to: SagaStatus },
    /// Start compensating: run `plan` in order; `cancel` says whether it ends as CANCELLED
    /// (a cancellation) or COMPENSATED (a failure).
    Compensate {
        plan: Vec<Compensation>,
        reason: String,
        cancel: bool,
    },
    /// One compensation is done; request `next`.
    NextCompensation {
        done: Compensation,
        next: Compensation,
    },
    /// The last compensation is done.
    Finish { done: Compensation, to: SagaStatus },
    /// A compensation failed for good.
    GiveUp {
        compensation: Compensation,
        reason: String,
    },
    /// Ask again for the compensation that failed (admin retry).
    RetryCompensation { compensation: Compensation },
    /// Nothing changes (duplicate, late or out-of-order fact).
    Ignore { why: String },
}

/// Why a request to the saga is refused (for the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SagaError {
    #[error("The order cannot be cancelled: it is already {0}.")]
    NotCancellable(&'static str),
}

/// A saga's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saga {
    pub status: SagaStatus,
    /// Compensations planned, in order, and how many are done.
    pub plan: Vec<Compensation>,
    pub done: usize,
    /// Whether the compensation is a cancellation (ends CANCELLED) or a failure (COMPENSATED).
    pub cancelling: bool,
    /// Why it is compensating.
    pub reason: Option<String>,
}

impl Saga {
    /// A new saga, right after checkout.
    pub fn new() -> Saga {
        Saga {
            status: SagaStatus::Pending,
            plan: Vec::new(),
            done: 0,
            cancelling: false,
            reason: None,
        }
    }

    /// The forward step running now, if any.
    pub fn current_step(&self) -> Option<Step> {
        match self.status {
            SagaStatus::Pending => Some(Step::ReserveInventory),
            SagaStatus::InventoryReserved => Some(Step::AuthorizePayment),
            SagaStatus::PaymentAuthorized => Some(Step::CreateShipment),
            SagaStatus::ShipmentCreated => Some(Step::ConfirmOrder),
            _ => None,
        }
    }

    /// The compensation running now, if compensating.
    pub fn current_compensation(&self) -> Option<Compensation> {
        (self.status == SagaStatus::Compensating)
            .then(|| self.plan.get(self.done).copied())
            .flatten()
    }

    /// The compensations that undo what has happened so far, in reverse step order.
    ///
    /// The step running now is included: its effect may land before it learns the saga moved
    /// on (a pending payment authorization, say), and every compensation is a no-op when there
    /// is nothing to undo. Restoring the cart comes last, once its stock is back.
    pub fn plan_from(status: SagaStatus) -> Vec<Compensation> {
        let reached = match status {
            SagaStatus::Pending => 1,
            SagaStatus::InventoryReserved => 2,
            SagaStatus::PaymentAuthorized => 3,
            SagaStatus::ShipmentCreated | SagaStatus::Confirmed => 4,
            _ => 0,
        };
        let mut plan: Vec<Compensation> = Vec::new();
        for compensation in STEPS.iter().take(reached).rev().filter_map(|(_, c)| *c) {
            if !plan.contains(&compensation) {
                plan.push(compensation);
            }
        }
        plan.push(Compensation::RestoreCart);
        plan
    }

    /// Whether a cancel may start now; the error names what the order already is.
    pub fn check_cancellable(&self) -> Result<(), SagaError> {
        match self.status {
            SagaStatus::Compensating if self.cancelling => {
                Err(SagaError::NotCancellable("being cancelled"))
            }
            SagaStatus::Compensating | SagaStatus::Compensated | SagaStatus::CompensationFailed => {
                Err(SagaError::NotCancellable("failed"))
            }
            SagaStatus::Cancelled => Err(SagaError::NotCancellable("cancelled")),
            _ => Ok(()),
        }
    }

    /// What `fact` changes.
    pub fn decide(&self, fact: &Fact) -> Decision {
        use SagaStatus::*;
        let ignore = |why: &str| Decision::Ignore {
            why: why.to_owned(),
        };
        let compensate = |reason: &str, cancel: bool| Decision::Compensate {
            plan: Saga::plan_from(self.status),
            reason: reason.to_owned(),
            cancel,
        };
        match (self.status, fact) {
            (Pending, Fact::InventoryReserved) => Decision::Advance {
                to: InventoryReserved,
            },
            (Pending, Fact::InventoryRejected { reason }) => compensate(reason, false),
            (InventoryReserved, Fact::PaymentAuthorized) => Decision::Advance {
                to: PaymentAuthorized,
            },
            (InventoryReserved, Fact::PaymentDeclined { reason }) => compensate(reason, false),
            (PaymentAuthorized, Fact::ShipmentCreated) => Decision::Advance {
                to: ShipmentCreated,
            },
            (PaymentAuthorized, Fact::ShipmentRejected { reason }) => compensate(reason, false),
            (ShipmentCreated, Fact::OrderConfirmed) => Decision::Advance { to: Confirmed },
            (
                Pending | InventoryReserved | PaymentAuthorized | ShipmentCreated,
                Fact::StepTimedOut,
            ) => {
                let step = self.current_step().map_or("step", |s| s.as_str());
                compensate(&format!("{step} timed out"), false)
            }
            (
                Pending | InventoryReserved | PaymentAuthorized | ShipmentCreated,
                Fact::CompensateRequested,
            ) => compensate("compensation requested by an admin", false),
            (
                Pending | InventoryReserved | PaymentAuthorized | ShipmentCreated | Confirmed,
                Fact::CancelRequested,
            ) => compensate("cancelled", true),
            (Compensating, Fact::Compensated(c)) => match self.current_compensation() {
                Some(expected) if expected == *c => match self.plan.get(self.done + 1) {
                    Some(next) => Decision::NextCompensation {
                        done: *c,
                        next: *next,
                    },
                    None => Decision::Finish {
                        done: *c,
                        to: if self.cancelling {
                            Cancelled
                        } else {
                            Compensated
                        },
                    },
                },
                _ if self.plan[..self.done].contains(c) => ignore("compensation already done"),
                _ => ignore("not the compensation running now"),
            },
            (
                Compensating,
                Fact::CompensationFailed {
                    compensation,
                    reason,
                },
            ) => {
                if self.current_compensation() == Some(*compensation) {
                    Decision::GiveUp {
                        compensation: *compensation,
                        reason: reason.clone(),
                    }
                } else {
                    ignore("not the compensation running now")
                }
            }
            (CompensationFailed, Fact::RetryRequested) => match self.plan.get(self.done) {
                Some(compensation) => Decision::RetryCompensation {
                    compensation: *compensation,
                },
                None => ignore("nothing left to retry"),
            },
            (_, Fact::RetryRequested) => {
                ignore("only a saga whose compensation failed can be retried")
            }
            (status, Fact::CancelRequested | Fact::CompensateRequested)
                if status.is_terminal() || status == Compensating =>
            {
                ignore("already compensating or ended")
            }
            (_, Fact::StepTimedOut) => ignore("no step is running"),
            (status, _) => ignore(&format!("not expected while {}", status.as_str())),
        }
    }

    /// Changes the saga as `decision` says.
    pub fn apply(&mut self, decision: &Decision) {
        match decision {
            Decision::Advance { to } => self.status = *to,
            Decision::Compensate {
                plan,
                reason,
                cancel,
            } => {
                self.status = SagaStatus::Compensating;
                self.plan = plan.clone();
                self.done = 0;
                self.cancelling = *cancel;
                self.reason = Some(reason.clone());
            }
            Decision::NextCompensation { .. } => self.done += 1,
            Decision::Finish { to, .. } => {
                self.done += 1;
                self.status = *to;
            }
            Decision::GiveUp { reason, .. } => {
                self.status = SagaStatus::CompensationFailed;
                self.reason = Some(reason.clone());
            }
            Decision::RetryCompensation { .. } => self.status = SagaStatus::Compensating,
            Decision::Ignore { .. } => {}
        }
    }
}

impl Default for Saga {
    fn default() -> Self {
        Saga::new()
    }
}

/// The name of what the saga is doing (for order views and admin lists).
pub fn step_name(status: &str, plan: &[Option<String>], done: i32) -> String {
    let current = || {
        plan.get(done.max(0) as usize)
            .cloned()
            .flatten()
            .unwrap_or_else(|| "none".into())
    };
    match SagaStatus::parse(status) {
        Some(SagaStatus::Pending) => "reserve_inventory".into(),
        Some(SagaStatus::InventoryReserved) => "authorize_payment".into(),
        Some(SagaStatus::PaymentAuthorized) => "create_shipment".into(),
        Some(SagaStatus::ShipmentCreated) => "confirm_order".into(),
        Some(SagaStatus::Compensating | SagaStatus::CompensationFailed) => current(),
        _ => "done".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Compensation::*;

    fn saga_at(status: SagaStatus) -> Saga {
        Saga {
            status,
            ..Saga::new()
        }
    }

    fn run(saga: &mut Saga, fact: Fact) -> Decision {
        let decision = saga.decide(&fact);
        saga.apply(&decision);
        decision
    }

    fn declined() -> Fact {
        Fact::PaymentDeclined {
            reason: "card declined".into(),
        }
    }

    #[test]
    fn the_happy_path_reaches_confirmed() {
        let mut saga = Saga::new();
        assert_eq!(saga.current_step(), Some(Step::ReserveInventory));
        run(&mut saga, Fact::InventoryReserved);
        assert_eq!(saga.current_step(), Some(Step::AuthorizePayment));
        run(&mut saga, Fact::PaymentAuthorized);
        assert_eq!(saga.current_step(), Some(Step::CreateShipment));
        run(&mut saga, Fact::ShipmentCreated);
        assert_eq!(saga.status, SagaStatus::ShipmentCreated);
        assert_eq!(saga.current_step(), Some(Step::ConfirmOrder));
        run(&mut saga, Fact::OrderConfirmed);
        assert_eq!(saga.status, SagaStatus::Confirmed);
        assert!(saga.status.is_terminal());
        assert_eq!(saga.current_step(), None);
    }

    #[test]
    fn a_rejected_reservation_releases_anything_held_then_restores_the_cart() {
        let mut saga = Saga::new();
        let decision = run(
            &mut saga,
            Fact::InventoryRejected {
                reason: "out of stock".into(),
            },
        );
        assert_eq!(
            decision,
            Decision::Compensate {
                plan: vec![ReleaseInventory, RestoreCart],
                reason: "out of stock".into(),
                cancel: false
            }
        );
        assert_eq!(saga.current_compensation(), Some(ReleaseInventory));
    }

    #[test]
    fn a_declined_payment_compensates_in_reverse_step_order() {
        let mut saga = saga_at(SagaStatus::InventoryReserved);
        let decision = run(&mut saga, declined());
        assert_eq!(
            decision,
            Decision::Compensate {
                plan: vec![CancelPayment, ReleaseInventory, RestoreCart],
                reason: "card declined".into(),
                cancel: false
            }
        );
        assert_eq!(
            run(&mut saga, Fact::Compensated(CancelPayment)),
            Decision::NextCompensation {
                done: CancelPayment,
                next: ReleaseInventory
            }
        );
        assert_eq!(
            run(&mut saga, Fact::Compensated(ReleaseInventory)),
            Decision::NextCompensation {
                done: ReleaseInventory,
                next: RestoreCart
            }
        );
        assert_eq!(
            run(&mut saga, Fact::Compensated(RestoreCart)),
            Decision::Finish {
                done: RestoreCart,
                to: SagaStatus::Compensated
            }
        );
        assert_eq!(saga.status, SagaStatus::Compensated);
    }

    #[test]
    fn a_rejected_shipment_undoes_the_payment_and_the_reservation_in_reverse_order() {
        let mut saga = saga_at(SagaStatus::PaymentAuthorized);
        let decision = run(
            &mut saga,
            Fact::ShipmentRejected {
                reason: "not delivered there".into(),
            },
        );
        assert_eq!(
            decision,
            Decision::Compensate {
                plan: vec![CancelShipment, CancelPayment, ReleaseInventory, RestoreCart],
                reason: "not delivered there".into(),
                cancel: false
            }
        );
        assert_eq!(saga.current_compensation(), Some(CancelShipment));
        assert!(matches!(
            saga_at(SagaStatus::ShipmentCreated).decide(&Fact::ShipmentRejected {
                reason: "late".into()
            }),
            Decision::Ignore { .. }
        ));
    }

    #[test]
    fn each_step_compensates_when_it_times_out() {
        for (status, plan) in [
            (SagaStatus::Pending, vec![ReleaseInventory, RestoreCart]),
            (
                SagaStatus::InventoryReserved,
                vec![CancelPayment, ReleaseInventory, RestoreCart],
            ),
            (
                SagaStatus::PaymentAuthorized,
                vec![CancelShipment, CancelPayment, ReleaseInventory, RestoreCart],
            ),
            (
                SagaStatus::ShipmentCreated,
                vec![CancelShipment, CancelPayment, ReleaseInventory, RestoreCart],
            ),
        ] {
            let decision = saga_at(status).decide(&Fact::StepTimedOut);
            assert!(
                matches!(&decision, Decision::Compensate { plan: p, cancel: false, .. } if *p == plan),
                "{status:?}: {decision:?}"
            );
        }
        assert!(matches!(
            saga_at(SagaStatus::Confirmed).decide(&Fact::StepTimedOut),
            Decision::Ignore { .. }
        ));
    }

    #[test]
    fn a_cancel_after_confirmation_refunds_releases_and_ends_cancelled() {
        let mut saga = saga_at(SagaStatus::Confirmed);
        assert_eq!(saga.check_cancellable(), Ok(()));
        let decision = run(&mut saga, Fact::CancelRequested);
        assert_eq!(
            decision,
            Decision::Compensate {
                plan: vec![CancelShipment, CancelPayment, ReleaseInventory, RestoreCart],
                reason: "cancelled".into(),
                cancel: true
            }
        );
        run(&mut saga, Fact::Compensated(CancelShipment));
        run(&mut saga, Fact::Compensated(CancelPayment));
        run(&mut saga, Fact::Compensated(ReleaseInventory));
        assert_eq!(
            run(&mut saga, Fact::Compensated(RestoreCart)),
            Decision::Finish {
                done: RestoreCart,
                to: SagaStatus::Cancelled
            }
        );
        assert_eq!(
            saga.check_cancellable(),
            Err(SagaError::NotCancellable("cancelled"))
        );
    }

    #[test]
    fn a_cancel_while_pending_compensates_what_may_have_happened() {
        let mut saga = Saga::new();
        let decision = run(&mut saga, Fact::CancelRequested);
        assert!(matches!(
            decision,
            Decision::Compensate { cancel: true, .. }
        ));
        assert_eq!(
            saga.check_cancellable(),
            Err(SagaError::NotCancellable("being cancelled"))
        );
    }

    #[test]
    fn duplicate_facts_change_nothing() {
        let mut saga = Saga::new();
        run(&mut saga, Fact::InventoryReserved);
        let before = saga.clone();
        assert!(matches!(
            run(&mut saga, Fact::InventoryReserved),
            Decision::Ignore { .. }
        ));
        assert_eq!(saga, before);
        let mut compensating = saga_at(SagaStatus::InventoryReserved);
        run(&mut compensating, declined());
        run(&mut compensating, Fact::Compensated(CancelPayment));
        let before = compensating.clone();
        assert!(matches!(
            run(&mut compensating, Fact::Compensated(CancelPayment)),
            Decision::Ignore { .. }
        ));
        assert_eq!(compensating, before);
    }

    #[test]
    fn out_of_order_and_late_facts_are_ignored() {
        // Payment news before inventory news.
        assert!(matches!(
            Saga::new().decide(&Fact::PaymentAuthorized),
            Decision::Ignore { .. }
        ));
        // A confirmation after the saga started compensating.
        let mut saga = saga_at(SagaStatus::PaymentAuthorized);
        run(&mut saga, Fact::StepTimedOut);
        assert!(matches!(
            saga.decide(&Fact::OrderConfirmed),
            Decision::Ignore { .. }
        ));
        // A compensation that is not the one running now.
        assert!(matches!(
            saga.decide(&Fact::Compensated(RestoreCart)),
            Decision::Ignore { .. }
        ));
        // Anything once it ended.
        let done = saga_at(SagaStatus::Compensated);
        for fact in [
            Fact::InventoryReserved,
            Fact::PaymentAuthorized,
            Fact::OrderConfirmed,
            Fact::CancelRequested,
            Fact::StepTimedOut,
        ] {
            assert!(
                matches!(done.decide(&fact), Decision::Ignore { .. }),
                "{fact:?}"
            );
        }
    }

    #[test]
    fn a_compensation_that_keeps_failing_leaves_the_saga_visible_and_retryable() {
        let mut saga = saga_at(SagaStatus::InventoryReserved);
        run(&mut saga, declined());
        let failed = Fact::CompensationFailed {
            compensation: CancelPayment,
            reason: "provider down".into(),
        };
        assert_eq!(
            run(&mut saga, failed),
            Decision::GiveUp {
                compensation: CancelPayment,
                reason: "provider down".into()
            }
        );
        assert_eq!(saga.status, SagaStatus::CompensationFailed);
        assert_eq!(
            run(&mut saga, Fact::RetryRequested),
            Decision::RetryCompensation {
                compensation: CancelPayment
            }
        );
        assert_eq!(saga.status, SagaStatus::Compensating);
        assert_eq!(saga.current_compensation(), Some(CancelPayment));
    }

    #[test]
    fn an_admin_can_force_compensation_of_a_running_saga_but_not_an_ended_one() {
        assert!(matches!(
            saga_at(SagaStatus::InventoryReserved).decide(&Fact::CompensateRequested),
            Decision::Compensate { cancel: false, .. }
        ));
        assert!(matches!(
            saga_at(SagaStatus::Confirmed).decide(&Fact::CompensateRequested),
            Decision::Ignore { .. }
        ));
        assert!(matches!(
            saga_at(SagaStatus::Pending).decide(&Fact::RetryRequested),
            Decision::Ignore { .. }
        ));
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in SagaStatus::ALL {
            assert_eq!(SagaStatus::parse(status.as_str()), Some(status));
        }
        for c in [CancelShipment, CancelPayment, ReleaseInventory, RestoreCart] {
            assert_eq!(Compensation::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn the_step_name_follows_the_status_and_during_compensation_the_plan() {
        assert_eq!(step_name("PENDING", &[], 0), "reserve_inventory");
        assert_eq!(step_name("PAYMENT_AUTHORIZED", &[], 0), "create_shipment");
        assert_eq!(step_name("SHIPMENT_CREATED", &[], 0), "confirm_order");
        let plan = [
            Some("cancel_payment".to_owned()),
            Some("release_inventory".to_owned()),
        ];
        assert_eq!(step_name("COMPENSATING", &plan, 1), "release_inventory");
        assert_eq!(step_name("CONFIRMED", &plan, 0), "done");
    }
}
