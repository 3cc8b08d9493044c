// Following an order while its checkout saga runs.
//
// Two transports behind one function, `watchOrder`:
//  * the `orderStatus` subscription over Server-Sent Events (POST /graphql with
//    `Accept: text/event-stream`; one `next` event per status change, ending after a terminal
//    order status), used when the gateway serves it;
//  * the documented fallback, a long-poll loop on `order(id, waitSeconds: 25)`, which answers as
//    soon as the order's or its saga's status changes.
// A light re-read every few seconds runs beside either one, so a change that lands between two
// long-polls (or an SSE stream that goes quiet) is never shown late. Answers are applied only
// when they are not older than what is on screen.

import { ApiError, gql, headers } from './api'
import { ORDER, ORDER_HISTORY, ORDER_STATUS_SUBSCRIPTION, type Order, type StoredEvent } from './graphql'

export type Transport = 'connecting' | 'sse' | 'long-poll' | 'stopped'

export const SAGA_TERMINAL = ['CONFIRMED', 'COMPENSATED', 'CANCELLED', 'COMPENSATION_FAILED']
export const ORDER_TERMINAL = ['CONFIRMED', 'FAILED', 'CANCELLED', 'SHIPPED']

/** Nothing more will happen to this order without someone acting on it. */
export function settled(order: Order): boolean {
  return ORDER_TERMINAL.includes(order.status) && SAGA_TERMINAL.includes(order.saga.status)
}

export interface WatchHandlers {
  onOrder(order: Order): void
  onTransport?(transport: Transport): void
  onError?(error: unknown): void
}

const LONG_POLL_SECONDS = 25
const SAFETY_READ_MS = 4000

/** `null` until tried; `false` once the gateway showed it does not stream subscriptions. */
let sseAvailable: boolean | null = null

function newer(a: Order, b: Order | null): boolean {
  if (!b) return true
  if (a.version !== b.version) return a.version > b.version
  return (a.saga.updatedAt ?? '') >= (b.saga.updatedAt ?? '')
}

/** The order with its event history attached (`orderHistory`), which the progress view reads. */
export async function withHistory(order: Order, signal?: AbortSignal): Promise<Order> {
  try {
    const { orderHistory } = await gql<{ orderHistory: { items: StoredEvent[] } }>(ORDER_HISTORY, { id: order.id }, { signal })
    return { ...order, history: orderHistory.items }
  } catch (e) {
    if (signal?.aborted) throw e
    return order
  }
}

/** One read of the order (long-polling when `waitSeconds` is given), with its history. */
export async function readOrder(id: string, waitSeconds?: number, signal?: AbortSignal): Promise<Order> {
  const { order } = await gql<{ order: Order }>(ORDER, waitSeconds ? { id, waitSeconds } : { id }, { signal })
  return withHistory(order, signal)
}

const signature = (o: Order) => `${o.version}|${o.status}|${o.saga.status}|${o.saga.step}|${o.saga.updatedAt}|${o.shipment?.status ?? ''}|${o.shipment?.updatedAt ?? ''}`

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
  })
}

type SseOutcome = 'unsupported' | 'ended' | 'failed'

async function streamOrderStatus(id: string, signal: AbortSignal, apply: (o: Order) => Promise<void>): Promise<SseOutcome> {
  let response: Response
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: headers({ accept: 'text/event-stream' }),
      body: JSON.stringify({ query: ORDER_STATUS_SUBSCRIPTION, variables: { id } }),
      signal,
    })
  } catch {
    return 'failed'
  }
  const type = response.headers.get('content-type') ?? ''
  if (!response.ok || !type.includes('text/event-stream') || !response.body) {
    try { await response.body?.cancel() } catch { /* ignore */ }
    return response.status >= 500 ? 'failed' : 'unsupported'
  }
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let received = 0
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n')
      let cut: number
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        let event = 'message'
        const data: string[] = []
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue
          const colon = line.indexOf(':')
          const field = colon < 0 ? line : line.slice(0, colon)
          const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
          if (field === 'event') event = val
          else if (field === 'data') data.push(val)
        }
        if (event === 'complete') return received > 0 ? 'ended' : 'unsupported'
        if (!data.length) continue
        let payload: { data?: { orderStatus?: Order }; payload?: { data?: { orderStatus?: Order } }; errors?: { message: string }[] }
        try { payload = JSON.parse(data.join('\n')) } catch { continue }
        const order = payload.data?.orderStatus ?? payload.payload?.data?.orderStatus
        if (order) { received++; await apply(order) }
        else if (payload.errors?.length) return received > 0 ? 'failed' : 'unsupported'
      }
    }
  } catch {
    return signal.aborted ? 'ended' : 'failed'
  }
  return received > 0 ? 'ended' : 'failed'
}

/** Follows order `id` until its saga settles or `stop()` is called. */
export function watchOrder(id: string, handlers: WatchHandlers, initial: Order | null = null): () => void {
  const controller = new AbortController()
  const signal = controller.signal
  let current: Order | null = initial
  // Each answer gets the order's history before it is shown (fetched again only when the
  // order changed); an answer older than what is shown is dropped.
  const apply = async (order: Order) => {
    if (signal.aborted || !newer(order, current)) return
    const full = current && signature(current) === signature(order) && current.history
      ? { ...order, history: current.history }
      : await withHistory(order, signal).catch(() => order)
    if (signal.aborted || !newer(full, current)) return
    current = full
    handlers.onOrder(full)
  }
  const done = () => signal.aborted || (current !== null && settled(current))
  const transport = (t: Transport) => handlers.onTransport?.(t)

  // The safety re-read.
  void (async () => {
    while (!done()) {
      await sleep(SAFETY_READ_MS, signal)
      if (done()) break
      try {
        await apply((await gql<{ order: Order }>(ORDER, { id }, { signal })).order)
      } catch { /* the main loop reports errors */ }
    }
  })()

  // The main loop.
  void (async () => {
    transport('connecting')
    let failures = 0
    while (!done()) {
      if (sseAvailable !== false) {
        transport('sse')
        const outcome = await streamOrderStatus(id, signal, apply)
        if (outcome === 'unsupported') sseAvailable = false
        else if (outcome === 'failed') { failures++; if (failures >= 2) sseAvailable = false; await sleep(1000, signal) }
        else sseAvailable = true
        continue
      }
      transport('long-poll')
      try {
        const { order } = await gql<{ order: Order }>(ORDER, { id, waitSeconds: LONG_POLL_SECONDS }, { signal })
        await apply(order)
        failures = 0
      } catch (error) {
        if (signal.aborted) break
        failures++
        handlers.onError?.(error)
        if (error instanceof ApiError && (error.code === 'not_found' || error.code === 'unauthorized' || error.code === 'forbidden')) break
        await sleep(Math.min(15000, 1000 * 2 ** Math.min(failures, 4)), signal)
      }
    }
    transport('stopped')
  })()

  return () => controller.abort()
}
