// The one way this app talks to spincart: POST /graphql on the same origin.
// Errors come back as GraphQL `errors[]` whose `extensions.code` is the REST error code
// (validation_failed, not_found, insufficient_stock, …); `ApiError` carries them to the views.

import { session } from './session'

export interface FieldError {
  field: string
  message: string
}

export class ApiError extends Error {
  readonly code: string
  readonly details: FieldError[]
  readonly extensions: Record<string, unknown>

  constructor(message: string, code: string, extensions: Record<string, unknown> = {}) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.extensions = extensions
    this.details = Array.isArray(extensions.details) ? (extensions.details as FieldError[]) : []
  }
}

interface GraphQLError {
  message: string
  path?: (string | number)[]
  extensions?: Record<string, unknown>
}

interface GraphQLResponse<T> {
  data?: T | null
  errors?: GraphQLError[]
}

export interface GqlOptions {
  signal?: AbortSignal
}

function toApiError(errors: GraphQLError[]): ApiError {
  const first = errors[0]
  const ext = first.extensions ?? {}
  const code = typeof ext.code === 'string' ? ext.code : 'error'
  return new ApiError(first.message || 'Something went wrong.', code, ext)
}

export function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...extra }
  if (session.token) h.authorization = `Bearer ${session.token}`
  return h
}

/** Runs one GraphQL operation; resolves to `data`, rejects with an `ApiError`. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, options: GqlOptions = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ query, variables }),
      signal: options.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError('The shop cannot be reached. Check your connection and try again.', 'network_error')
  }
  let body: GraphQLResponse<T> | null = null
  try {
    body = (await response.json()) as GraphQLResponse<T>
  } catch {
    body = null
  }
  if (body?.errors?.length) {
    const error = toApiError(body.errors)
    if (error.code === 'unauthorized' && session.token) session.expired()
    throw error
  }
  if (!response.ok || !body || body.data == null) {
    if (response.status === 401 && session.token) session.expired()
    const retryAfter = response.headers.get('retry-after')
    const message =
      response.status === 429 || response.status === 503
        ? `The shop is busy. Try again${retryAfter ? ` in ${retryAfter} s` : ' shortly'}.`
        : `The shop answered ${response.status}. Try again.`
    throw new ApiError(message, response.status === 401 ? 'unauthorized' : 'http_error')
  }
  return body.data
}

/** A fresh idempotency key for one user action (retries of the same action reuse it). */
export function idempotencyKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** A user-facing sentence for any error thrown by `gql`. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error) return error.message
  return 'Something went wrong.'
}

/** Field → message for `validation_failed`, for showing next to the inputs. */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (error instanceof ApiError) for (const d of error.details) out[d.field] = d.message
  return out
}
