// One polite live region for the whole app (in App.vue): route changes and status messages are
// read out by screen readers without moving focus.

import { reactive } from 'vue'

export const announcer = reactive({ message: '' })

export function announce(message: string) {
  // Clearing first makes a repeated message be read again.
  announcer.message = ''
  setTimeout(() => { announcer.message = message }, 50)
}
