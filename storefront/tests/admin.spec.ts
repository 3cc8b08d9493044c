// 3. Operations in the admin console: re-driving a saga that waits on its payment step (and
//    then compensating it), and replaying a dead letter left by a provider that always errors.
import { admin, customer, expect, gql, product, shippingAddress, signInBrowser, snap, sweep, test, unique, type TestUser } from './support'
import type { APIRequestContext } from '@playwright/test'

async function checkoutVia(request: APIRequestContext, user: TestUser, productId: string, paymentToken: string) {
  const { openCart } = await gql(request, `mutation { openCart { id } }`, {}, user.token)
  await gql(request, `mutation($cartId: ID!, $productId: ID!) { addToCart(cartId: $cartId, productId: $productId, quantity: 1) { id } }`, { cartId: openCart.id, productId }, user.token)
  const { checkout } = await gql(request, `mutation($cartId: ID!, $paymentToken: String!, $address: ShippingAddressInput!) { checkout(cartId: $cartId, paymentToken: $paymentToken, shippingAddress: $address) { orderId sagaId } }`, { cartId: openCart.id, paymentToken, address: shippingAddress() }, user.token)
  return checkout as { orderId: string; sagaId: string }
}

test('an admin re-drives a waiting saga, compensates it, and replays a dead letter', async ({ page, request }) => {
  test.setTimeout(240_000)
  const run = unique()
  const boss = await admin(request)
  const kettle = await product(request, boss, { name: `Dune kettle ${run}`, category: `admin${run}`, price: '45.00' })
  const bob = await customer(request, 'Bob Timeout')
  const carol = await customer(request, 'Carol Error')

  // tok_timeout: the payment never answers, so the saga waits in INVENTORY_RESERVED until its
  // step deadline; tok_error: the payment consumer fails every try and is dead-lettered.
  const waiting = await checkoutVia(request, bob, kettle.id, 'tok_timeout')
  const failing = await checkoutVia(request, carol, kettle.id, 'tok_error')

  await signInBrowser(page, boss)
  await page.goto('/admin')
  await expect(page).toHaveURL(/\/admin\/products$/)
  await expect(page.getByRole('navigation', { name: 'Admin' })).toBeVisible()
  await expect(page.getByRole('heading', { level: 1, name: 'Products & stock' })).toBeVisible()
  await expect(page.getByTestId('admin-products')).toBeVisible()

  // The saga monitor, filtered to sagas waiting on their payment.
  await page.getByRole('link', { name: 'Saga monitor' }).click()
  await page.getByLabel('Status').selectOption('INVENTORY_RESERVED')
  const row = page.locator(`[data-saga-id="${waiting.sagaId}"]`)
  await expect(row, 'the tok_timeout saga waits on its payment step').toBeVisible({ timeout: 20_000 })
  await snap(page, 'saga-monitor')

  // One saga: steps, logs, events; Retry re-drives its step.
  await row.getByRole('link').click()
  await expect(page).toHaveURL(new RegExp(`/admin/sagas/${waiting.sagaId}$`))
  await expect(page.getByTestId('admin-saga-status')).toHaveText('INVENTORY_RESERVED')
  await expect(page.getByTestId('admin-saga-steps').locator('[data-step]').first()).toBeVisible()
  await expect(page.getByTestId('saga-events')).toContainText('inventory.reserved')
  await page.getByRole('button', { name: 'Retry' }).click()
  await expect(page.getByTestId('saga-action-status')).toContainText('Retry requested')
  await expect(page.getByText('re-driven by an admin').first()).toBeAttached()
  await snap(page, 'saga-detail')

  // Compensate ends it: COMPENSATED, with its compensation log.
  await page.getByRole('button', { name: 'Compensate' }).click()
  await expect(page.getByTestId('saga-action-status')).toContainText('Compensation requested')
  await expect(page.getByTestId('admin-saga-status')).toHaveText('COMPENSATED', { timeout: 60_000 })
  await expect(page.getByTestId('compensation-log')).toBeVisible()

  // The tok_error delivery is retried with backoff by the sweep, then dead-lettered.
  const findDeadLetter = async () => {
    const { deadLetters } = await gql(request, `query { deadLetters(limit: 100) { items { id payload replayedAt } } }`, {}, boss.token)
    return deadLetters.items.find((d: { payload: string }) => d.payload.includes(failing.sagaId)) as { id: string } | undefined
  }
  await expect.poll(async () => {
    await sweep(request, boss)
    return (await findDeadLetter())?.id ?? null
  }, { message: 'the tok_error delivery is dead-lettered', timeout: 120_000, intervals: [2_000] }).not.toBeNull()
  const dead = (await findDeadLetter())!

  await page.getByRole('link', { name: 'Dead letters' }).click()
  const deadRow = page.locator(`[data-dead-letter-id="${dead.id}"]`)
  await expect(deadRow).toBeVisible()
  await expect(deadRow.getByTestId('replayed-at')).toHaveText('no')
  await snap(page, 'dead-letters')
  await deadRow.getByRole('button', { name: /^Replay/ }).click()
  await expect(page.getByTestId('replay-status')).toContainText('Replayed')
  await expect(deadRow.getByTestId('replayed-at')).not.toHaveText('no')
})
