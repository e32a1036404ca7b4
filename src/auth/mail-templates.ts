// The mails the service sends, as plain text and HTML. Pure functions of what each one says; the
// HTML escapes everything it is given.

export interface Mail {
  to: string
  subject: string
  text: string
  html: string
}

/** The kinds of mail, as the outbox and the log name them. */
export type MailKind = 'password_reset' | 'password_changed' | 'verify_email' | 'change_email' | 'email_change_requested' | 'second_factor_changed'

const escape = (text: string) => text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)

const minutes = (seconds: number) => seconds % 3600 === 0 && seconds >= 7200
  ? `${seconds / 3600} hours`
  : `${Math.max(1, Math.round(seconds / 60))} minutes`

// One layout for all: a greeting, paragraphs, at most one button, the same words in the text part.
function compose (to: string, subject: string, username: string, paragraphs: string[], link?: { url: string, label: string }): Mail {
  const text = [`Hello ${username},`, ...paragraphs, ...(link === undefined ? [] : [`${link.label}:\n${link.url}`])].join('\n\n') + '\n'
  const html = '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">' +
    `<p>Hello ${escape(username)},</p>` +
    paragraphs.map(p => `<p>${escape(p)}</p>`).join('') +
    (link === undefined ? '' : `<p><a href="${escape(link.url)}">${escape(link.label)}</a></p><p style="font-size:small">${escape(link.url)}</p>`) +
    '</body></html>'
  return { to, subject, text, html }
}

export const templates = {
  password_reset: (to: string, username: string, url: string, ttl: number) => compose(to, 'Reset your password', username, [
    `Someone asked to reset the password of your account. If it was you, follow the link below within ${minutes(ttl)} to choose a new one; it works once.`,
    'If it was not you, ignore this mail: your password stays as it is.'
  ], { url, label: 'Choose a new password' }),

  password_changed: (to: string, username: string, at: Date) => compose(to, 'Your password was changed', username, [
    `The password of your account was changed at ${at.toISOString()}, and every session was signed out.`,
    'If you did not do this, reset your password at once and tell your administrator.'
  ]),

  verify_email: (to: string, username: string, url: string, ttl: number) => compose(to, 'Confirm your email address', username, [
    `Please confirm that this address is yours by following the link below within ${minutes(ttl)}.`,
    'If you did not create an account, ignore this mail.'
  ], { url, label: 'Confirm this address' }),

  change_email: (to: string, username: string, url: string, ttl: number) => compose(to, 'Confirm your new email address', username, [
    `Someone asked to make this the address of your account. Follow the link below within ${minutes(ttl)} to confirm it; until then the old address stays.`,
    'If it was not you, ignore this mail.'
  ], { url, label: 'Confirm the new address' }),

  email_change_requested: (to: string, username: string, newEmail: string) => compose(to, 'A new email address was requested for your account', username, [
    `Someone signed in to your account asked to change its address to ${newEmail}. The change happens only when that address confirms it.`,
    'If it was not you, change your password now: whoever did this knows it.'
  ]),

  /** `change` says what happened, as a sentence: "An authenticator app was turned off." */
  second_factor_changed: (to: string, username: string, change: string, at: Date) => compose(to, 'The sign-in of your account changed', username, [
    `${change} (${at.toISOString()})`,
    'If you did not do this, reset your password at once and tell your administrator.'
  ])
} satisfies Record<MailKind, (...args: never[]) => Mail>
