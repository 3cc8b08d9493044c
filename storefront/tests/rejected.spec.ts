// 5. An address the carrier rejects (2 Reject Road): the order page shows the shipment step
//    failing, the shipment rejected with the carrier's reason, the compensations (cancel the
//    shipment, void the payment, release the stock, restore the cart), and the cart comes back.
import { admin, customer, expect, product, signInBrowser, snap, test, unique } from './support'

test('an address the carrier rejects is compensated and the cart is restored', async ({ page, request }) => {
  const run = unique()
  const boss = await admin(request)
  const rug = await product(request, boss, { name: `Wool rug ${run}`, category: `rejected${run}`, price: '210.00', stock: 4 })
  const rex = await customer(request, 'Rex Rejected')
  await signInBrowser(page, rex)

  await page.goto(`/products/${rug.id}`)
  await page.getByLabel('Quantity').fill('2')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('added')).toContainText(`Added 2 × ${rug.name}`)

  // One click fills the test address in; the card is the one that is authorized.
  await page.goto('/checkout')
  await expect(page.getByTestId('checkout-total')).toHaveText('420.00 USD')
  const rejectRoad = page.locator('[data-line1="2 Reject Road"]')
  await expect(rejectRoad).toContainText('Rejected by the carrier')
  await rejectRoad.getByRole('button', { name: 'Use 2 Reject Road' }).click()
  await expect(page.getByLabel('Address line 1')).toHaveValue('2 Reject Road')
  await expect(page.getByLabel('City')).toHaveValue('London')
  await expect(page.getByLabel('Country')).toHaveValue('GB')
  await expect(page.getByTestId('announcer')).toContainText('Filled in the test address 2 Reject Road')
  await expect(page.getByLabel(/tok_visa/)).toBeChecked()
  await page.getByRole('button', { name: 'Place order' }).click()
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/)

  // Live: the stock is reserved and the payment authorized, then the carrier says no.
  await expect(page.getByTestId('order-status')).toHaveText('Failed', { timeout: 60_000 })
  await expect(page.getByTestId('saga-status')).toHaveText('COMPENSATED', { timeout: 60_000 })
  await expect(page.locator('[data-step="reserve_inventory"]')).toHaveAttribute('data-state', 'done')
  await expect(page.locator('[data-step="authorize_payment"]')).toHaveAttribute('data-state', 'done')
  await expect(page.locator('[data-step="create_shipment"]')).toHaveAttribute('data-state', 'failed')
  await expect(page.locator('[data-step="confirm_order"]')).toHaveAttribute('data-state', 'skipped')
  const compensations = page.getByTestId('compensations')
  for (const step of ['cancel_shipment', 'cancel_payment', 'release_inventory', 'restore_cart']) {
    await expect(compensations.locator(`[data-step="${step}"]`)).toHaveAttribute('data-state', 'done')
  }
  await expect(compensations.locator('[data-step]')).toHaveText([/Cancel shipment/, /Cancel payment/, /Release inventory/, /Restore cart/])

  // The shipment: rejected, with the carrier's reason, and no tracking number.
  await expect(page.getByTestId('shipment-status')).toHaveAttribute('data-status', 'rejected')
  await expect(page.getByTestId('shipment-status')).toHaveText('Rejected by the carrier')
  await expect(page.getByTestId('shipment-reason')).not.toBeEmpty()
  await expect(page.getByTestId('tracking-number')).toHaveCount(0)
  await expect(page.getByTestId('shipping-address')).toContainText('2 Reject Road')
  await expect(page.getByTestId('cart-restored')).toBeVisible()
  await snap(page, 'order-shipment-rejected')

  // The cart has its lines back.
  await page.getByTestId('cart-restored').getByRole('link', { name: 'Back to your cart' }).click()
  await expect(page).toHaveURL(/\/cart$/)
  const line = page.getByTestId('cart-line')
  await expect(line).toHaveCount(1)
  await expect(line).toContainText(rug.name)
  await expect(line.getByRole('spinbutton', { name: `Quantity of ${rug.name}` })).toHaveValue('2')
  await expect(page.getByTestId('cart-total')).toHaveText('420.00 USD')

  // The history says so too.
  await page.getByRole('link', { name: 'Orders', exact: true }).click()
  const row = page.getByTestId('order-row').first()
  await expect(row).toContainText('Failed')
  await expect(row.getByTestId('order-shipment')).toContainText('Rejected by the carrier')
})
