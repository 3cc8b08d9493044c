// Display helpers. Money arrives as a two-decimal string and is shown as such, never parsed.

export function money(amount: string | null | undefined, currency?: string | null): string {
  if (amount == null) return '—'
  return currency ? `${amount} ${currency}` : amount
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
}

export function clock(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : ''
}

export function humanize(s: string | null | undefined): string {
  if (!s) return ''
  return s.replace(/[._]/g, ' ').toLowerCase().replace(/^\w/, (c) => c.toUpperCase())
}

export const AVAILABILITY_TEXT: Record<string, string> = {
  available: 'Available',
  out_of_stock: 'Out of stock',
  lock_expired: 'Hold expired — stock may be gone',
}
