// Shared set-up for the browser tests: GraphQL calls made by the test itself (through
// Playwright's `request` fixture, same origin as the app), users, products, screenshots, and a
// page fixture that fails a test on any uncaught error or console error in the app.

import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test'

declare const process: { env: Record<string, string | undefined> }

export const ADMIN_EMAIL = process.env.SPINCART_ADMIN_EMAIL || 'admin@spincart.local'
export const ADMIN_PASSWORD = process.env.SPINCART_ADMIN_PASSWORD || 'e2e-admin-password'

/** A short token unique to this run, for names, SKUs and e-mails. */
export function unique(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
}

/** Where the deliberate screenshots go: /work/main/target/screenshots/<name>.png. */
export function screenshotPath(name: string): string {
  return decodeURIComponent(new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname)
}

export async function snap(page: Page, name: string) {
  await page.screenshot({ path: screenshotPath(name), fullPage: true })
}

export interface GqlError { message: string; extensions?: { code?: string; [k: string]: unknown } }

export class GqlFailure extends Error {
  constructor(readonly errors: GqlError[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'error'}: ${e.message}`).join('; '))
  }
  get code() { return this.errors[0]?.extensions?.code }
}

/** One GraphQL operation from the test (not the browser). */
export async function gql<T = Record<string, any>>(request: APIRequestContext, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await request.post('/graphql', {
    data: { query, variables },
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  const text = await response.text()
  let body: { data?: T; errors?: GqlError[] }
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error(`POST /graphql → ${response.status()}: ${text.slice(0, 300)}`)
  }
  if (body.errors?.length) throw new GqlFailure(body.errors)
  if (!body.data) throw new Error(`POST /graphql → ${response.status()} without data`)
  return body.data
}

export interface TestUser { id: string; email: string; password: string; token: string; role: string; fullName: string }

const LOGIN = `mutation($email: String!, $password: String!) { loginUser(email: $email, password: $password) { token user { id email fullName role } } }`
const REGISTER = `mutation($email: String!, $password: String!, $fullName: String!) { registerUser(email: $email, password: $password, fullName: $fullName) { id } }`

export async function login(request: APIRequestContext, email: string, password: string): Promise<TestUser> {
  const { loginUser } = await gql(request, LOGIN, { email, password })
  return { id: loginUser.user.id, email, password, token: loginUser.token, role: loginUser.user.role, fullName: loginUser.user.fullName ?? '' }
}

export async function register(request: APIRequestContext, email: string, password: string, fullName: string) {
  try {
    await gql(request, REGISTER, { email, password, fullName })
  } catch (e) {
    if (!(e instanceof GqlFailure && ['email_taken', 'conflict'].includes(String(e.code)))) throw e
  }
}

export async function customer(request: APIRequestContext, name = 'Test Customer'): Promise<TestUser> {
  const email = `customer-${unique()}@browser.test`
  const password = 'correct horse battery'
  await register(request, email, password, name)
  return login(request, email, password)
}

/** The admin: `SPINCART_ADMIN_EMAIL` with `SPINCART_ADMIN_PASSWORD`, whom an operator made an
 *  admin (`spincart-admin`; the suite's apps and `make up` do it). Registering never makes one. */
export async function admin(request: APIRequestContext): Promise<TestUser> {
  let user: TestUser
  try {
    user = await login(request, ADMIN_EMAIL, ADMIN_PASSWORD)
  } catch (e) {
    throw new Error(`cannot log in as ${ADMIN_EMAIL} (set SPINCART_ADMIN_EMAIL and SPINCART_ADMIN_PASSWORD to an admin of the app): ${e}`)
  }
  expect(user.role, `${ADMIN_EMAIL} must be an admin (spincart-admin grant --email ${ADMIN_EMAIL})`).toBe('admin')
  return user
}

export interface TestProduct { id: string; sku: string; name: string; price: string; currency: string; category: string }

const CREATE_PRODUCT = `mutation($input: NewProduct!) { createProduct(input: $input) { id sku name price currency category } }`
const SEARCH = `query($q: String, $category: String) { products(q: $q, category: $category, limit: 50) { items { id } } }`

/** Creates a product as the admin and waits until the catalog's search shows it. */
export async function product(request: APIRequestContext, adminUser: TestUser, input: { name: string; category: string; price: string; stock?: number; description?: string }): Promise<TestProduct> {
  const sku = `BT-${unique().toUpperCase()}`
  const { createProduct } = await gql(request, CREATE_PRODUCT, {
    input: { sku, name: input.name, description: input.description ?? `${input.name}, made for the browser tests.`, category: input.category, price: input.price, currency: 'USD', initialStock: input.stock ?? 20 },
  }, adminUser.token)
  await expect.poll(async () => {
    const { products } = await gql(request, SEARCH, { category: input.category })
    return products.items.some((p: { id: string }) => p.id === createProduct.id)
  }, { message: `product ${input.name} appears in the catalog search`, timeout: 30_000 }).toBe(true)
  return createProduct
}

/** A shipping address for `checkout` (GraphQL input); the simulated carrier answers by `line1`:
 *  "1 Book Street" books, "2 Reject Road" rejects, "3 Flaky Lane" fails once, "4 Silent Way"
 *  never answers. */
export function shippingAddress(line1 = '1 Book Street') {
  return { name: 'Ada Lovelace', line1, city: 'London', postalCode: 'N1 9GU', country: 'GB' }
}

/** Puts a session in the browser's localStorage, as the login page does. */
export async function signInBrowser(page: Page, user: TestUser) {
  await page.goto('/login')
  await page.evaluate(([token, u]) => {
    localStorage.setItem('spincart.token', token)
    localStorage.setItem('spincart.user', u)
  }, [user.token, JSON.stringify({ id: user.id, email: user.email, fullName: user.fullName, role: user.role })] as const)
}

/** POST /api/v1/admin/maintenance/run: one sweep now. */
export async function sweep(request: APIRequestContext, adminUser: TestUser) {
  const r = await request.post('/api/v1/admin/maintenance/run', { headers: { authorization: `Bearer ${adminUser.token}` }, data: {} })
  expect(r.status(), await r.text()).toBeLessThan(300)
}

/** `page` that collects the app's errors; the test fails if any happened: an uncaught error, a
 *  console error or Vue warning, and any resource that failed to load (named by its URL). A test
 *  that provokes a failed load on purpose lists it: `test.use({ allowFailedLoads: [/regex/] })`. */
export const test = base.extend<{ appErrors: string[]; allowFailedLoads: RegExp[] }>({
  allowFailedLoads: [[], { option: true }],
  appErrors: [async ({ page, allowFailedLoads }, use) => {
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') {
        const url = m.location().url
        const expected = /Failed to load resource/.test(m.text()) && allowFailedLoads.some((r) => r.test(url))
        if (!expected) errors.push(`console.error: ${m.text()}${url ? ` (${url})` : ''}`)
      }
      if (m.type() === 'warning' && /\[Vue warn\]/.test(m.text())) errors.push(`vue warning: ${m.text()}`)
    })
    // A request cut short by the page itself (a navigation ending a live order stream) is no
    // failure; one the network or server refused is.
    page.on('requestfailed', (r) => {
      if (r.failure()?.errorText === 'net::ERR_ABORTED') return
      if (!allowFailedLoads.some((re) => re.test(r.url()))) errors.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`)
    })
    await use(errors)
    expect(errors, 'the app logged no errors').toEqual([])
  }, { auto: true }],
})

export { expect }
