// 2. A declined card: the order page shows the saga compensating and the cart comes back
//    with its lines.
import { admin, customer, expect, product, signInBrowser, test, unique } from './support'

test('a declined card is compensated and the cart is restored', async ({ page, request }) => {
  const run = unique()
  const boss = await admin(request)
  const chair = await product(request, boss, { name: `Cedar chair ${run}`, category: `declined${run}`, price: '149.00', stock: 5 })
  const ann = await customer(request, 'Ann Declined')
  await signInBrowser(page, ann)

  await page.goto(`/products/${chair.id}`)
  await page.getByLabel('Quantity').fill('2')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('added')).toContainText(`Added 2 × ${chair.name}`)
  await expect(page.getByTestId('availability')).toContainText('3 available')

  await page.goto('/checkout')
  await expect(page.getByTestId('checkout-total')).toHaveText('298.00 USD')
  await page.getByRole('button', { name: 'Use 1 Book Street' }).click()
  await expect(page.getByLabel('Address line 1')).toHaveValue('1 Book Street')
  await page.getByLabel(/tok_decline/).check()
  await page.getByRole('button', { name: 'Place order' }).click()
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/)

  // Live: the payment fails, the compensations run, the order ends FAILED.
  await expect(page.getByTestId('order-status')).toHaveText('Failed', { timeout: 60_000 })
  await expect(page.getByTestId('saga-status')).toHaveText('COMPENSATED', { timeout: 60_000 })
  await expect(page.locator('[data-step="reserve_inventory"]')).toHaveAttribute('data-state', 'done')
  await expect(page.locator('[data-step="authorize_payment"]')).toHaveAttribute('data-state', 'failed')
  await expect(page.locator('[data-step="create_shipment"]')).toHaveAttribute('data-state', 'skipped')
  await expect(page.locator('[data-step="confirm_order"]')).toHaveAttribute('data-state', 'skipped')
  const compensations = page.getByTestId('compensations')
  await expect(compensations.locator('[data-step="release_inventory"]')).toHaveAttribute('data-state', 'done')
  await expect(compensations.locator('[data-step="restore_cart"]')).toHaveAttribute('data-state', 'done')
  await expect(compensations.locator('[data-step="cancel_shipment"]'), 'nothing was shipped, so nothing to cancel').toHaveCount(0)
  await expect(page.getByTestId('cart-restored')).toBeVisible()
  await expect(page.getByTestId('shipping-address')).toContainText('1 Book Street')
  await expect(page.getByTestId('shipment-status')).toContainText('the checkout ended before shipping')

  // The cart has its lines back.
  await page.getByTestId('cart-restored').getByRole('link', { name: 'Back to your cart' }).click()
  await expect(page).toHaveURL(/\/cart$/)
  const line = page.getByTestId('cart-line')
  await expect(line).toHaveCount(1)
  await expect(line).toContainText(chair.name)
  await expect(line.getByRole('spinbutton', { name: `Quantity of ${chair.name}` })).toHaveValue('2')
  await expect(page.getByTestId('cart-total')).toHaveText('298.00 USD')
  await expect(page.getByRole('link', { name: 'Checkout' })).toBeVisible()
})
