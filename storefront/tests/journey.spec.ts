// 1. The whole journey of a new customer, in the browser: register → sign in → browse →
//    search → add two products → change a quantity → give a shipping address (a missing city is
//    pointed out next to its field) → pay with tok_visa → the order turns CONFIRMED live on its
//    page with its shipment booked → the order is in the history.
import { admin, expect, product, snap, test, unique } from './support'

test('a new customer buys two products and watches the order confirm live', async ({ page, request }) => {
  const run = unique()
  const boss = await admin(request)
  const category = `journey${run}`
  const lamp = await product(request, boss, { name: `Aurora lamp ${run}`, category, price: '79.99' })
  const mug = await product(request, boss, { name: `Basalt mug ${run}`, category, price: '12.50' })

  // Register, then sign in.
  const email = `journey-${run}@browser.test`
  const password = 'correct horse battery'
  await page.goto('/register')
  await expect(page.getByRole('heading', { level: 1, name: 'Create an account' })).toBeVisible()
  await page.getByLabel('Full name').fill('Jane Journey')
  await page.getByLabel('E-mail').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page).toHaveURL(/\/login/)
  await expect(page.getByText('Your account was created')).toBeVisible()
  await expect(page.getByLabel('E-mail')).toHaveValue(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/$/)
  await expect(page.getByRole('link', { name: 'Profile' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0)

  // Browse: the catalog lists products; filter by the category.
  await expect(page.getByRole('heading', { level: 1, name: 'Catalog' })).toBeVisible()
  await expect(page.getByTestId('product-card').first()).toBeVisible()
  await page.getByLabel('Category').fill(category)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await expect(page).toHaveURL(new RegExp(`category=${category}`))
  await expect(page.getByTestId('product-card')).toHaveCount(2)
  await snap(page, 'catalog')

  // Search narrows it to the lamp; add it from its card.
  await page.getByLabel('Category').fill('')
  await page.getByLabel('Search products').fill(`lamp ${run}`)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await expect(page.getByTestId('product-card')).toHaveCount(1)
  await expect(page.getByTestId('product-card')).toContainText(lamp.name)
  await page.getByRole('button', { name: `Add ${lamp.name} to cart` }).click()
  await expect(page.getByTestId('announcer')).toContainText(`Added ${lamp.name}`)

  // The mug from its own page, which shows its availability.
  await page.getByLabel('Search products').fill(`mug ${run}`)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await page.getByRole('link', { name: mug.name }).click()
  await expect(page).toHaveURL(new RegExp(`/products/${mug.id}$`))
  await expect(page.getByRole('heading', { level: 1, name: mug.name })).toBeFocused()
  await expect(page.getByTestId('availability')).toContainText('20 available')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('added')).toContainText(`Added 1 × ${mug.name}`)
  await expect(page.getByTestId('cart-count')).toContainText('2')

  // The cart: two lines; three mugs instead of one. Totals are the API's, to the cent.
  await page.getByRole('link', { name: /^Cart/ }).click()
  await expect(page.getByTestId('cart-line')).toHaveCount(2)
  const mugLine = page.getByTestId('cart-line').filter({ hasText: mug.name })
  await expect(mugLine.getByText('Available')).toBeVisible()
  await mugLine.getByRole('spinbutton', { name: `Quantity of ${mug.name}` }).fill('3')
  await mugLine.getByRole('button', { name: `Update quantity of ${mug.name}` }).click()
  await expect(mugLine.getByTestId('line-total')).toHaveText('37.50 USD')
  await expect(page.getByTestId('cart-total')).toHaveText('117.49 USD')
  await expect(page.getByTestId('item-count')).toHaveText('4')
  await snap(page, 'cart')
  await page.setViewportSize({ width: 390, height: 844 })
  await expect(page.getByRole('button', { name: 'Menu' })).toBeVisible()
  await snap(page, 'cart-mobile')
  await page.setViewportSize({ width: 1280, height: 900 })

  // Checkout with the card that is authorized.
  await page.getByRole('link', { name: 'Checkout' }).click()
  await expect(page.getByTestId('checkout-total')).toHaveText('117.49 USD')
  await expect(page.getByLabel(/tok_visa/)).toBeChecked()

  // Where it goes: the carrier books 1 Book Street. Without a city the API answers
  // validation_failed, shown next to the field, which gets the focus.
  await expect(page.getByLabel('Full name')).toHaveValue('Jane Journey')
  await page.getByLabel('Address line 1').fill('1 Book Street')
  await page.getByLabel('Address line 2 (optional)').fill('Flat 2')
  await page.getByLabel('Postal code').fill('n1 9gu')
  await page.getByLabel('Country').fill('gb')
  await page.getByRole('button', { name: 'Place order' }).click()
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'validation_failed')
  await expect(page.getByTestId('error-city')).not.toBeEmpty()
  await expect(page.getByLabel('City')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByLabel('City')).toBeFocused()
  await expect(page).toHaveURL(/\/checkout$/)
  await page.getByLabel('City').fill('London')
  await snap(page, 'checkout')
  await page.getByRole('button', { name: 'Place order' }).click()
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/)
  const orderId = page.url().split('/').pop()!
  await expect(page.getByTestId('saga-steps').getByRole('listitem')).toHaveCount(4)
  await snap(page, 'order-live-progress')

  // CONFIRMED arrives without reloading the page.
  let reloaded = false
  page.on('load', () => { reloaded = true })
  await expect(page.getByTestId('order-status')).toHaveText('Confirmed', { timeout: 60_000 })
  await expect(page.getByTestId('saga-status')).toHaveText('CONFIRMED')
  for (const step of ['reserve_inventory', 'authorize_payment', 'create_shipment', 'confirm_order']) {
    await expect(page.locator(`[data-step="${step}"]`)).toHaveAttribute('data-state', 'done')
  }
  // The shipment, booked with the carrier's tracking number, and the address as stored.
  await expect(page.getByTestId('shipment-status')).toHaveAttribute('data-status', 'booked')
  await expect(page.getByTestId('tracking-number')).toHaveText(/^SC[0-9A-F]{12}$/)
  const tracking = (await page.getByTestId('tracking-number').textContent())!.trim()
  const address = page.getByTestId('shipping-address')
  await expect(address).toContainText('Jane Journey')
  await expect(address).toContainText('1 Book Street')
  await expect(address).toContainText('Flat 2')
  await expect(address).toContainText('N1 9GU London')
  await expect(address).toContainText('GB')
  await expect(page.getByTestId('compensations')).toHaveCount(0)
  await expect(page.getByTestId('order-total')).toHaveText('117.49 USD')
  expect(reloaded, 'the order page updated in place').toBe(false)
  await snap(page, 'order-live')

  // The order is in the history.
  await page.getByRole('link', { name: 'Orders', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Your orders' })).toBeVisible()
  const row = page.locator(`[data-order-id="${orderId}"]`)
  await expect(row).toContainText('Confirmed')
  await expect(row).toContainText('117.49 USD')
  await expect(row).toContainText(`3 × ${mug.name}`)
  await expect(row.getByTestId('order-shipment')).toContainText('Booked')
  await expect(row.getByTestId('order-shipment')).toContainText(tracking)
})
