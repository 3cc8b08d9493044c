// Who is signed in: the token (kept in localStorage) and the user it belongs to.

import { reactive } from 'vue'

export interface SessionUser {
  id: string
  email: string
  fullName?: string | null
  role?: string | null
}

const TOKEN_KEY = 'spincart.token'
const USER_KEY = 'spincart.user'

function load(): { token: string | null; user: SessionUser | null } {
  try {
    const token = localStorage.getItem(TOKEN_KEY)
    const raw = localStorage.getItem(USER_KEY)
    return { token, user: token && raw ? (JSON.parse(raw) as SessionUser) : null }
  } catch {
    return { token: null, user: null }
  }
}

const initial = load()

export const session = reactive({
  token: initial.token as string | null,
  user: initial.user as SessionUser | null,
  /** Set when a request was refused because the token expired; the login page says so. */
  expiredNotice: false,

  get signedIn(): boolean {
    return !!this.token
  },
  get isAdmin(): boolean {
    return !!this.token && this.user?.role === 'admin'
  },

  signIn(token: string, user: SessionUser) {
    this.token = token
    this.user = user
    this.expiredNotice = false
    localStorage.setItem(TOKEN_KEY, token)
    localStorage.setItem(USER_KEY, JSON.stringify(user))
  },
  updateUser(user: SessionUser) {
    this.user = user
    localStorage.setItem(USER_KEY, JSON.stringify(user))
  },
  signOut() {
    this.token = null
    this.user = null
    localStorage.removeItem(TOKEN_KEY)
    localStorage.removeItem(USER_KEY)
  },
  expired() {
    this.signOut()
    this.expiredNotice = true
  },
})
