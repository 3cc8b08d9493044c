// What the order page shows of a checkout saga: its four steps and, after a failure or a
// cancel, the compensations — derived from the saga's status and the events it caused.

import type { Order, StoredEvent } from './graphql'

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped'

export interface StepView {
  step: string
  label: string
  state: StepState
  at?: string
  note?: string
}

interface StepDef {
  step: string
  label: string
  startedBy: string[]
  doneBy: string[]
  failedBy: string[]
}

export const FORWARD: StepDef[] = [
  { step: 'reserve_inventory', label: 'Reserve inventory', startedBy: ['cart.checkout_requested', 'order.placed'], doneBy: ['inventory.reserved'], failedBy: ['inventory.rejected'] },
  { step: 'authorize_payment', label: 'Authorize payment', startedBy: ['inventory.reserved'], doneBy: ['payment.authorized'], failedBy: ['payment.declined'] },
  { step: 'create_shipment', label: 'Book shipment', startedBy: ['payment.authorized', 'shipment.requested'], doneBy: ['shipment.created'], failedBy: ['shipment.rejected'] },
  { step: 'confirm_order', label: 'Confirm order', startedBy: ['shipment.created'], doneBy: ['order.confirmed'], failedBy: [] },
]

// In the order they run: the last step done is undone first.
export const COMPENSATIONS: StepDef[] = [
  { step: 'cancel_shipment', label: 'Cancel shipment', startedBy: ['saga.cancel_shipment_requested'], doneBy: ['shipment.cancelled'], failedBy: [] },
  { step: 'cancel_payment', label: 'Cancel payment', startedBy: ['saga.cancel_payment_requested'], doneBy: ['payment.voided', 'payment.refunded'], failedBy: [] },
  { step: 'release_inventory', label: 'Release inventory', startedBy: ['saga.release_inventory_requested'], doneBy: ['inventory.released'], failedBy: [] },
  { step: 'restore_cart', label: 'Restore cart', startedBy: ['saga.restore_cart_requested'], doneBy: ['cart.restored'], failedBy: [] },
]

const FORWARD_DONE_BY_STATUS: Record<string, number> = {
  PENDING: 0,
  INVENTORY_RESERVED: 1,
  PAYMENT_AUTHORIZED: 2,
  SHIPMENT_CREATED: 3,
  CONFIRMED: 4,
}

const FAILURE = ['COMPENSATING', 'COMPENSATED', 'COMPENSATION_FAILED']

/** The event types seen, with when each first happened (matching on the type's prefix, so a
 *  sharded channel name like `inventory.reserved.2` still counts). */
function seen(history: StoredEvent[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const e of history) {
    for (const def of [...FORWARD, ...COMPENSATIONS]) {
      for (const t of [...def.startedBy, ...def.doneBy, ...def.failedBy]) {
        if ((e.eventType === t || e.eventType.startsWith(`${t}.`)) && !out.has(t)) out.set(t, e.occurredAt)
      }
    }
    if (!out.has(e.eventType)) out.set(e.eventType, e.occurredAt)
  }
  return out
}

function first(events: Map<string, string>, types: string[]): string | undefined {
  for (const t of types) if (events.has(t)) return events.get(t)
  return undefined
}

export function forwardSteps(order: Order): StepView[] {
  const events = seen(order.history ?? [])
  const sagaStatus = order.saga.status
  const failed = FAILURE.includes(sagaStatus) || (sagaStatus !== 'CANCELLED' && order.status === 'FAILED')
  const doneByStatus = FORWARD_DONE_BY_STATUS[sagaStatus] ?? (sagaStatus === 'CANCELLED' && events.has('order.confirmed') ? FORWARD.length : -1)
  let blamed = false
  return FORWARD.map((def, i): StepView => {
    const doneAt = first(events, def.doneBy)
    const failedAt = first(events, def.failedBy)
    const startedAt = first(events, def.startedBy)
    if (doneAt || i < doneByStatus) return { step: def.step, label: def.label, state: 'done', at: doneAt }
    if (failedAt) { blamed = true; return { step: def.step, label: def.label, state: 'failed', at: failedAt } }
    if (failed || sagaStatus === 'CANCELLED') {
      // The first step that did not finish is the one that gave up (declined, error, timeout).
      if (!blamed && (i === 0 || startedAt || order.saga.step === def.step)) {
        blamed = true
        return { step: def.step, label: def.label, state: failed ? 'failed' : 'skipped', at: startedAt, note: failed ? 'did not complete' : 'cancelled' }
      }
      return { step: def.step, label: def.label, state: 'skipped' }
    }
    if (i === doneByStatus || order.saga.step === def.step) return { step: def.step, label: def.label, state: 'running', at: startedAt }
    return { step: def.step, label: def.label, state: 'pending' }
  })
}

export function compensationSteps(order: Order): StepView[] {
  const events = seen(order.history ?? [])
  const sagaStatus = order.saga.status
  const compensating = FAILURE.includes(sagaStatus) || sagaStatus === 'CANCELLED' || order.status === 'FAILED'
  const out: StepView[] = []
  COMPENSATIONS.forEach((def, i) => {
    const requestedAt = first(events, def.startedBy)
    const doneAt = first(events, def.doneBy)
    const current = order.saga.step === def.step
    if (!requestedAt && !doneAt && !current) return
    // Compensations run one after another, so one is over once a later one has started (some
    // finish without an event of their own, e.g. cancelling a shipment the carrier rejected).
    const laterStarted = COMPENSATIONS.slice(i + 1).some((later) => first(events, later.startedBy) || order.saga.step === later.step)
    let state: StepState = 'running'
    if (doneAt) state = 'done'
    else if (current && sagaStatus === 'COMPENSATION_FAILED') state = 'failed'
    else if (!current && (laterStarted || sagaStatus === 'COMPENSATED' || sagaStatus === 'CANCELLED')) state = 'done'
    out.push({ step: def.step, label: def.label, state, at: doneAt ?? requestedAt })
  })
  if (!out.length && compensating && sagaStatus === 'COMPENSATING') {
    out.push({ step: order.saga.step || 'compensating', label: 'Starting compensation', state: 'running' })
  }
  return out
}

export const STATE_TEXT: Record<StepState, string> = {
  pending: 'Waiting',
  running: 'In progress',
  done: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
}

export const SHIPMENT_STATUS_TEXT: Record<string, string> = {
  requested: 'Waiting for the carrier',
  booked: 'Booked',
  rejected: 'Rejected by the carrier',
  cancelled: 'Cancelled',
  shipped: 'Handed to the carrier',
}

export const ORDER_STATUS_TEXT: Record<string, string> = {
  PENDING: 'Processing',
  CONFIRMED: 'Confirmed',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  SHIPPED: 'Shipped',
}
