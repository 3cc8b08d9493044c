// 4. A customer is kept out of the admin console: no link, "not allowed" on every admin page,
//    and no admin data asked for or shown; the gateway refuses them too.
import { customer, expect, gql, GqlFailure, signInBrowser, test } from './support'

test('a customer sees "not allowed" on admin pages and no admin data', async ({ page, request }) => {
  const dan = await customer(request, 'Dan Customer')
  await signInBrowser(page, dan)

  const adminQueries: string[] = []
  page.on('request', (r) => {
    if (r.url().endsWith('/graphql') && r.method() === 'POST') {
      const body = r.postData() ?? ''
      if (/\b(sagas|saga|deadLetters|carts|createProduct|adjustStock|stock)\s*[({]/.test(body)) adminQueries.push(body)
    }
  })

  await page.goto('/')
  await expect(page.getByRole('link', { name: 'Profile' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0)

  for (const path of ['/admin', '/admin/products', '/admin/sagas', '/admin/dead-letters', '/admin/carts']) {
    await page.goto(path)
    await expect(page.getByRole('heading', { level: 1, name: 'Not allowed' })).toBeVisible()
    await expect(page.getByTestId('not-allowed')).toContainText('not allowed')
    await expect(page.getByRole('navigation', { name: 'Admin' })).toHaveCount(0)
    await expect(page.locator('table')).toHaveCount(0)
  }
  // Client-side navigation too (no reload).
  await page.goto('/profile')
  await expect(page.getByTestId('profile-role')).toHaveText('customer')
  await page.evaluate(() => { history.pushState({}, '', '/admin/sagas'); dispatchEvent(new PopStateEvent('popstate')) })
  await expect(page.getByRole('heading', { level: 1, name: 'Not allowed' })).toBeVisible()
  expect(adminQueries, 'no admin query left the browser').toEqual([])

  // Even asked directly, the gateway refuses a customer.
  const refused = await gql(request, `query { sagas { total } }`, {}, dan.token).then(() => null, (e) => e)
  expect(refused).toBeInstanceOf(GqlFailure)
  expect((refused as GqlFailure).code).toBe('forbidden')

  // Signed out, the admin pages still show nothing but a way to sign in.
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.goto('/admin/sagas')
  await expect(page).toHaveURL(/\/login\?redirect=/)
})
