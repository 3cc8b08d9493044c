// The caller's open cart (mutation `openCart` returns it, creating one if needed). Totals are
// shown exactly as the API returns them; nothing here does arithmetic on money.

import { reactive } from 'vue'
import { gql, idempotencyKey } from './api'
import { session } from './session'
import { ADD_TO_CART, CART, OPEN_CART, REMOVE_FROM_CART, UPDATE_CART_ITEM, type Cart } from './graphql'

export const cartStore = reactive({
  cart: null as Cart | null,
  owner: null as string | null,
})

function keep(cart: Cart): Cart {
  cartStore.cart = cart
  cartStore.owner = session.user?.id ?? null
  return cart
}

/** The caller's open cart, asking the server the first time (or after a checkout). */
export async function openCart(): Promise<Cart> {
  if (cartStore.cart && cartStore.owner === (session.user?.id ?? null) && cartStore.cart.status === 'ACTIVE') {
    return cartStore.cart
  }
  const data = await gql<{ openCart: Cart }>(OPEN_CART, { key: idempotencyKey() })
  return keep(data.openCart)
}

export async function refreshCart(): Promise<Cart> {
  cartStore.cart = null
  return openCart()
}

export async function reloadCart(id: string): Promise<Cart> {
  const data = await gql<{ cart: Cart }>(CART, { id })
  return keep(data.cart)
}

export async function addToCart(productId: string, quantity: number): Promise<Cart> {
  const cart = await openCart()
  const data = await gql<{ addToCart: Cart }>(ADD_TO_CART, { cartId: cart.id, productId, quantity, key: idempotencyKey() })
  return keep(data.addToCart)
}

export async function setQuantity(productId: string, quantity: number): Promise<Cart> {
  const cart = await openCart()
  const data = await gql<{ updateCartItem: Cart }>(UPDATE_CART_ITEM, { cartId: cart.id, productId, quantity, key: idempotencyKey() })
  return keep(data.updateCartItem)
}

export async function removeLine(productId: string): Promise<Cart> {
  const cart = await openCart()
  const data = await gql<{ removeFromCart: Cart }>(REMOVE_FROM_CART, { cartId: cart.id, productId, key: idempotencyKey() })
  return keep(data.removeFromCart)
}

export function forgetCart() {
  cartStore.cart = null
  cartStore.owner = null
}
