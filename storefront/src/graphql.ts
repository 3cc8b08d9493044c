// Every operation the app sends, with the types of what comes back. Field names follow
// /work/main/schema.graphql (printed from the gateway's code).

export interface Stock {
  productId: string
  onHand: number
  locked: number
  reserved: number
  available: number
}

export interface Product {
  id: string
  sku: string
  name: string
  description: string
  category: string
  price: string
  currency: string
  available: number
  createdAt: string
  updatedAt: string
}

export interface Page<T> {
  items: T[]
  page: number
  limit: number
  total: number
}

export interface User {
  id: string
  email: string
  fullName?: string | null
  role?: string | null
}

export interface Session {
  token: string
  expiresAt: string
  user: User
}

export type Availability = 'available' | 'out_of_stock' | 'lock_expired'

export interface CartLine {
  productId: string
  sku: string
  name: string
  unitPrice: string
  quantity: number
  lineTotal: string
  availability: Availability | string
  lockedUntil?: string | null
}

export interface Cart {
  id: string
  userId: string
  status: string
  version: number
  currency?: string | null
  items: CartLine[]
  itemCount: number
  total: string
  expiresAt: string
  createdAt: string
  updatedAt: string
}

export interface OrderLine {
  productId: string
  sku: string
  name: string
  unitPrice: string
  quantity: number
  lineTotal: string
}

export interface OrderSaga {
  id: string
  status: string
  step: string
  updatedAt: string
}

export interface StoredEvent {
  position: number
  eventId: string
  eventType: string
  correlationId: string
  causationId?: string | null
  aggregateType: string
  aggregateId: string
  aggregateVersion: number
  occurredAt: string
  publishedAt?: string | null
  data?: unknown
}

/** Where an order goes, as the checkout stored it (trimmed; postal code and country upper-case). */
export interface ShippingAddress {
  name: string
  line1: string
  line2?: string | null
  city: string
  postalCode: string
  /** ISO 3166-1 alpha-2, e.g. "GB". */
  country: string
}

/** What `checkout` takes as `shippingAddress` (`ShippingAddressInput!`): the same fields. */
export type ShippingAddressInput = ShippingAddress

export type ShipmentStatus = 'requested' | 'booked' | 'rejected' | 'cancelled' | 'shipped'

/** An order's shipment with the (simulated) carrier. */
export interface Shipment {
  id: string
  status: ShipmentStatus | string
  /** "SC" and 12 hex digits, once booked. */
  trackingNumber?: string | null
  /** Why it was rejected or cancelled. */
  reason?: string | null
  updatedAt: string
}

export interface Order {
  id: string
  userId: string
  cartId: string
  status: string
  items: OrderLine[]
  total: string
  currency: string
  version: number
  saga: OrderSaga
  /** null for orders placed before shipping existed. */
  shippingAddress?: ShippingAddress | null
  /** null until the saga asks the carrier (after the payment is authorized). */
  shipment?: Shipment | null
  createdAt: string
  updatedAt: string
  /** Not a field of Order: attached by the client from `orderHistory`. */
  history?: StoredEvent[]
}

export interface CheckoutStarted {
  orderId: string
  sagaId: string
  status: string
}

export interface Saga {
  id: string
  orderId: string
  cartId: string
  userId: string
  status: string
  step: string
  compensations: string[]
  compensationsDone: number
  reason?: string | null
  redrives: number
  stepDeadline?: string | null
  createdAt: string
  updatedAt: string
}

export interface SagaStep {
  step: string
  status: string
  startedAt?: string | null
  completedAt?: string | null
}

export interface SagaLogEntry {
  kind: string
  step?: string | null
  fromStatus?: string | null
  toStatus?: string | null
  detail: string
  at: string
}

export interface SagaDetail {
  saga: Saga
  steps: SagaStep[]
  compensationLog: SagaLogEntry[]
  log: SagaLogEntry[]
  events: StoredEvent[]
}

export interface DeadLetter {
  id: string
  consumer: string
  eventId?: string | null
  eventType?: string | null
  error: string
  attempts: number
  payload: string
  createdAt: string
  replayedAt?: string | null
}

export interface CartSummary {
  id: string
  userId: string
  status: string
  version: number
  itemCount: number
  total: string
  currency?: string | null
  createdAt: string
  updatedAt: string
}

// ---- fragments -------------------------------------------------------------------------

export const PRODUCT_FIELDS = `id sku name description category price currency available createdAt updatedAt`

export const CART_FIELDS = `id userId status version currency itemCount total expiresAt createdAt updatedAt
  items { productId sku name unitPrice quantity lineTotal availability lockedUntil }`

export const ORDER_FIELDS = `id userId cartId status total currency version createdAt updatedAt
  items { productId sku name unitPrice quantity lineTotal }
  saga { id status step updatedAt }
  shippingAddress { name line1 line2 city postalCode country }
  shipment { id status trackingNumber reason updatedAt }`

export const EVENT_FIELDS = `position eventId eventType correlationId causationId aggregateType aggregateId aggregateVersion occurredAt publishedAt data`

export const SAGA_FIELDS = `id orderId cartId userId status step compensations compensationsDone reason redrives stepDeadline createdAt updatedAt`

// ---- storefront ------------------------------------------------------------------------

export const PRODUCTS = `query Products($q: String, $category: String, $page: Int, $limit: Int) {
  products(q: $q, category: $category, page: $page, limit: $limit) { page limit total items { ${PRODUCT_FIELDS} } }
}`

export const PRODUCT = `query Product($id: ID!) {
  product(id: $id) { ${PRODUCT_FIELDS} }
}`

export const REGISTER = `mutation Register($email: String!, $password: String!, $fullName: String!, $key: String) {
  registerUser(email: $email, password: $password, fullName: $fullName, idempotencyKey: $key) { id email fullName }
}`

export const LOGIN = `mutation Login($email: String!, $password: String!) {
  loginUser(email: $email, password: $password) { token expiresAt user { id email fullName role } }
}`

export const ME = `query Me { me { id email fullName role } }`

export const OPEN_CART = `mutation OpenCart($key: String) { openCart(idempotencyKey: $key) { ${CART_FIELDS} } }`

export const CART = `query Cart($id: ID!) { cart(id: $id) { ${CART_FIELDS} } }`

export const ADD_TO_CART = `mutation AddToCart($cartId: ID!, $productId: ID!, $quantity: Int!, $key: String) {
  addToCart(cartId: $cartId, productId: $productId, quantity: $quantity, idempotencyKey: $key) { ${CART_FIELDS} }
}`

export const UPDATE_CART_ITEM = `mutation UpdateCartItem($cartId: ID!, $productId: ID!, $quantity: Int!, $key: String) {
  updateCartItem(cartId: $cartId, productId: $productId, quantity: $quantity, idempotencyKey: $key) { ${CART_FIELDS} }
}`

export const REMOVE_FROM_CART = `mutation RemoveFromCart($cartId: ID!, $productId: ID!, $key: String) {
  removeFromCart(cartId: $cartId, productId: $productId, idempotencyKey: $key) { ${CART_FIELDS} }
}`

export const CHECKOUT = `mutation Checkout($cartId: ID!, $paymentToken: String!, $shippingAddress: ShippingAddressInput!, $key: String) {
  checkout(cartId: $cartId, paymentToken: $paymentToken, shippingAddress: $shippingAddress, idempotencyKey: $key) { orderId sagaId status }
}`

export const ORDERS = `query Orders($page: Int, $limit: Int) {
  orders(page: $page, limit: $limit) { page limit total items { ${ORDER_FIELDS} } }
}`

/** The order page's read; `waitSeconds` long-polls for the next status change. */
export const ORDER = `query Order($id: ID!, $waitSeconds: Int) {
  order(id: $id, waitSeconds: $waitSeconds) { ${ORDER_FIELDS} }
}`

/** The order's events and every event its checkout caused, oldest first. */
export const ORDER_HISTORY = `query OrderHistory($id: ID!) {
  orderHistory(id: $id) { items { ${EVENT_FIELDS} } }
}`

export const ORDER_STATUS_SUBSCRIPTION = `subscription OrderStatus($id: ID!) {
  orderStatus(id: $id) { ${ORDER_FIELDS} }
}`

export const CANCEL_ORDER = `mutation CancelOrder($id: ID!, $key: String) {
  cancelOrder(id: $id, idempotencyKey: $key) { ${ORDER_FIELDS} }
}`

// ---- admin -----------------------------------------------------------------------------

export const STOCK_FIELDS = `productId onHand locked reserved available`

/** The stock of several products in one request (one aliased `stock` field each). */
export function stocksQuery(count: number): string {
  const vars = Array.from({ length: count }, (_, i) => `$p${i}: ID!`).join(', ')
  const fields = Array.from({ length: count }, (_, i) => `s${i}: stock(productId: $p${i}) { ${STOCK_FIELDS} }`).join('\n  ')
  return `query Stocks(${vars}) {\n  ${fields}\n}`
}

export const CREATE_PRODUCT = `mutation CreateProduct($input: NewProduct!, $key: String) {
  createProduct(input: $input, idempotencyKey: $key) { ${PRODUCT_FIELDS} }
}`

export const UPDATE_PRODUCT = `mutation UpdateProduct($id: ID!, $input: ProductChanges!, $key: String) {
  updateProduct(id: $id, input: $input, idempotencyKey: $key) { ${PRODUCT_FIELDS} }
}`

export const ADJUST_STOCK = `mutation AdjustStock($productId: ID!, $delta: Int!, $reason: String!, $key: String) {
  adjustStock(productId: $productId, delta: $delta, reason: $reason, idempotencyKey: $key) { productId onHand locked reserved available }
}`

export const SAGAS = `query Sagas($status: String, $page: Int, $limit: Int) {
  sagas(status: $status, page: $page, limit: $limit) { page limit total items { ${SAGA_FIELDS} } }
}`

export const SAGA = `query Saga($id: ID!) {
  saga(id: $id) {
    saga { ${SAGA_FIELDS} }
    steps { step status startedAt completedAt }
    compensationLog { kind step fromStatus toStatus detail at }
    log { kind step fromStatus toStatus detail at }
    events { ${EVENT_FIELDS} }
  }
}`

export const RETRY_SAGA = `mutation RetrySaga($id: ID!) { retrySaga(id: $id) { ${SAGA_FIELDS} } }`

export const COMPENSATE_SAGA = `mutation CompensateSaga($id: ID!) { compensateSaga(id: $id) { ${SAGA_FIELDS} } }`

export const DEAD_LETTERS = `query DeadLetters($page: Int, $limit: Int) {
  deadLetters(page: $page, limit: $limit) { page limit total items { id consumer eventId eventType error attempts payload createdAt replayedAt } }
}`

export const REPLAY_DEAD_LETTER = `mutation ReplayDeadLetter($id: ID!) { replayDeadLetter(id: $id) { id channel replayed } }`

export const CARTS = `query Carts($status: String, $page: Int, $limit: Int) {
  carts(status: $status, page: $page, limit: $limit) { page limit total items { id userId status version itemCount total currency createdAt updatedAt } }
}`
