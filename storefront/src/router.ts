// Routes (HTML5 history: the storefront component falls back to index.html for unknown paths).
// `meta.auth` needs a signed-in user (else → /login?redirect=…); `meta.admin` needs role admin
// (App.vue shows "not allowed" in place of the page, so no admin view mounts or fetches).

import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { session } from './session'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    auth?: boolean
    admin?: boolean
    guestOnly?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', name: 'catalog', component: () => import('./views/CatalogView.vue'), meta: { title: 'Catalog' } },
  { path: '/products/:id', name: 'product', component: () => import('./views/ProductView.vue'), meta: { title: 'Product' }, props: true },
  { path: '/cart', name: 'cart', component: () => import('./views/CartView.vue'), meta: { title: 'Your cart', auth: true } },
  { path: '/checkout', name: 'checkout', component: () => import('./views/CheckoutView.vue'), meta: { title: 'Checkout', auth: true } },
  { path: '/orders', name: 'orders', component: () => import('./views/OrdersView.vue'), meta: { title: 'Your orders', auth: true } },
  { path: '/orders/:id', name: 'order', component: () => import('./views/OrderView.vue'), meta: { title: 'Order', auth: true }, props: true },
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { title: 'Sign in', guestOnly: true } },
  { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue'), meta: { title: 'Create an account', guestOnly: true } },
  { path: '/profile', name: 'profile', component: () => import('./views/ProfileView.vue'), meta: { title: 'Your profile', auth: true } },
  {
    path: '/admin',
    component: () => import('./views/admin/AdminLayout.vue'),
    meta: { title: 'Admin', auth: true, admin: true },
    children: [
      { path: '', redirect: { name: 'admin-products' } },
      { path: 'products', name: 'admin-products', component: () => import('./views/admin/AdminProducts.vue'), meta: { title: 'Products & stock', auth: true, admin: true } },
      { path: 'sagas', name: 'admin-sagas', component: () => import('./views/admin/AdminSagas.vue'), meta: { title: 'Saga monitor', auth: true, admin: true } },
      { path: 'sagas/:id', name: 'admin-saga', component: () => import('./views/admin/AdminSaga.vue'), meta: { title: 'Saga', auth: true, admin: true }, props: true },
      { path: 'dead-letters', name: 'admin-dead-letters', component: () => import('./views/admin/AdminDeadLetters.vue'), meta: { title: 'Dead letters', auth: true, admin: true } },
      { path: 'carts', name: 'admin-carts', component: () => import('./views/admin/AdminCarts.vue'), meta: { title: 'Carts', auth: true, admin: true } },
    ],
  },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { title: 'Page not found' } },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
})

router.beforeEach((to) => {
  if (to.meta.auth && !session.signedIn) return { name: 'login', query: { redirect: to.fullPath } }
  if (to.meta.guestOnly && session.signedIn) return { name: 'catalog' }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · spincart` : 'spincart'
})
