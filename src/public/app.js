// The page's whole logic. Tokens never reach it: they travel in HttpOnly cookies. It keeps only
// the CSRF token, in memory, and sends it with every request that changes something.
'use strict'

// A clear sentence for each error the API answers with; otherwise the API's own message.
const MESSAGES = {
  invalid_credentials: 'Wrong username or password.',
  username_taken: 'That username is already taken.',
  email_taken: 'An account with that email already exists.',
  wrong_password: 'Your current password is not right.',
  invalid_mail_token: 'This link is invalid, already used or expired. Ask for a new one.',
  email_not_verified: 'Confirm your email address first: follow the link in the mail we sent you.',
  invalid_code: 'That code is not right, or was already used.',
  invalid_mfa_token: 'That took too long. Sign in again.',
  totp_enabled: 'An authenticator app is already set up.',
  totp_not_enabled: 'No authenticator app is set up.',
  totp_not_started: 'Start the setup again.',
  passkey_refused: 'That passkey did not work here. Try another, or your password.',
  passkey_exists: 'That passkey is already added.',
  insufficient_user_authentication: 'This needs a sign-in with your second factor. Sign out and sign in again with it.',
  mail_not_configured: 'This service cannot send mail. Ask its operator.',
  unauthorized: 'You are signed out. Sign in again.',
  invalid_token: 'Your session has ended. Sign in again.',
  invalid_grant: 'Your session has ended. Sign in again.',
  csrf_rejected: 'This page is out of date. Reload it and try again.',
  not_found: 'That session has already ended.',
  rate_limited: 'Too many attempts. Wait a moment, then try again.',
  overloaded: 'The service is busy. Try again in a moment.',
  payload_too_large: 'That is too long.',
  unsupported_media_type: 'The page sent something the service does not accept. Reload it.',
  internal_error: 'Something went wrong on our side. Try again later.',
  network: 'The service cannot be reached. Check your connection.'
}

class ApiError extends Error {
  constructor (status, body) {
    const code = body?.error ?? 'internal_error'
    super(MESSAGES[code] ?? body?.message ?? body?.error_description ?? `Error ${status}`)
    this.status = status
    this.code = code
  }
}

let csrfToken = null

async function send (method, path, body) {
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken
  try {
    return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, { error: 'network' })
  }
}

// The access cookie lives minutes; when it has gone, the refresh cookie gets a new one.
async function silentRefresh () {
  const res = await send('POST', '/auth/refresh', {})
  if (!res.ok) return false
  csrfToken = (await res.json()).csrfToken
  return true
}

async function api (method, path, body) {
  let res = await send(method, path, body)
  if (res.status === 401 && await silentRefresh()) res = await send(method, path, body)
  const data = res.status === 204 ? null : await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, data)
  return data
}

const $ = (selector) => document.querySelector(selector)

function say (text, isError = false) {
  const box = $('#message')
  box.textContent = text
  box.classList.toggle('error', isError)
  box.hidden = false
}

function show (signedIn) {
  $('#signed-in').hidden = !signedIn
  $('#signed-out').hidden = signedIn
  $('#reset').hidden = true
  $('#second-step').hidden = true
}

async function signedOut (text) {
  show(false)
  $('#recovery-codes').hidden = true
  const { csrfToken: token } = await api('GET', '/auth/csrf')
  csrfToken = token
  if (text !== undefined) say(text)
}

function cell (row, text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className !== undefined) td.className = className
  row.append(td)
  return td
}

async function loadAccount () {
  const [me, { sessions }, mfa, { passkeys }] = await Promise.all([api('GET', '/auth/me'), api('GET', '/auth/sessions'), api('GET', '/auth/mfa'), api('GET', '/auth/passkeys')])
  const fields = {
    username: me.user.username,
    email: me.user.email,
    verified: me.user.emailVerified ? 'yes' : 'not yet',
    roles: me.user.roles.join(', '),
    scopes: me.scopes.join(' '),
    session: `${me.session.id} (until ${new Date(me.session.expiresAt).toLocaleString()})`
  }
  for (const [name, value] of Object.entries(fields)) $(`#me [data-field="${name}"]`).textContent = value
  $('#resend').hidden = me.user.emailVerified
  $('#mfa [data-field="mfa-status"]').textContent = mfa.totp
    ? `On: an authenticator app, and ${mfa.recoveryCodes} recovery codes left.`
    : 'Off: your password alone signs you in.'
  $('#mfa-on').hidden = !mfa.totp
  $('#mfa-off').hidden = mfa.totp

  const rows = sessions.map(session => {
    const row = document.createElement('tr')
    row.dataset.session = session.id
    cell(row, session.userAgent ?? 'unknown', 'device')
    cell(row, session.ip ?? '')
    cell(row, new Date(session.createdAt).toLocaleString())
    cell(row, new Date(session.lastUsedAt).toLocaleString())
    const last = cell(row, '')
    if (session.current) {
      last.textContent = 'this device'
      last.className = 'current'
    } else {
      const end = document.createElement('button')
      end.type = 'button'
      end.textContent = 'End'
      end.addEventListener('click', () => run(async () => {
        await api('DELETE', `/auth/sessions/${encodeURIComponent(session.id)}`)
        say('Session ended.')
        await loadAccount()
      }))
      last.append(end)
    }
    return row
  })
  $('#sessions').replaceChildren(...rows)
  $('#passkey-list').replaceChildren(...passkeys.map(passkey => {
    const row = document.createElement('tr')
    cell(row, passkey.name)
    cell(row, new Date(passkey.createdAt).toLocaleString())
    cell(row, passkey.lastUsedAt === null ? 'never' : new Date(passkey.lastUsedAt).toLocaleString())
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.textContent = 'Remove'
    remove.addEventListener('click', () => run(async () => {
      await api('DELETE', `/auth/passkeys/${encodeURIComponent(passkey.id)}`)
      say('Passkey removed.')
      await loadAccount()
    }))
    cell(row, '').append(remove)
    return row
  }))
  show(true)
}

// Every action: errors become a message; a lost session shows the sign-in forms.
async function run (action) {
  try {
    await action()
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    if (['unauthorized', 'invalid_token', 'invalid_grant'].includes(err.code)) await signedOut()
    say(err.message, true)
  }
}

function fields (form) {
  return Object.fromEntries(new FormData(form).entries())
}

// With a second factor on, the login waits for a code (the second-step form) before any session.
async function signIn (username, password) {
  const session = await api('POST', '/auth/login', { username, password })
  if (session.mfaRequired) {
    show(false)
    $('#signed-out').hidden = true
    $('#second-step').hidden = false
    $('#passkey-second-step').hidden = !session.methods.includes('passkey')
    $('#login-code input').focus()
    return false
  }
  csrfToken = session.csrfToken
  await loadAccount()
  return true
}

$('#login-code').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    try {
      const session = await api('POST', '/auth/login/mfa', fields(event.target))
      csrfToken = session.csrfToken
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_mfa_token') await signedOut()
      throw err
    } finally {
      event.target.reset()
    }
    await loadAccount()
    say(`Signed in as ${$('#me [data-field="username"]').textContent}.`)
  })
})

// The browser's part of a WebAuthn ceremony (@simplewebauthn/browser, /webauthn.js): a refusal
// or a cancel there is said, not thrown.
async function ceremony (start) {
  try {
    return await start()
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw new ApiError(0, { error: 'passkey_cancelled', message: 'The passkey was not used (cancelled, or not available on this device).' })
  }
}

// A passkey alone signs in, with two factors; after a password, it is the second step.
for (const [button, path] of [['#passkey-sign-in', '/auth/passkeys/login'], ['#passkey-second-step', '/auth/login/mfa']]) {
  $(button).addEventListener('click', () => run(async () => {
    const optionsJSON = await api('POST', '/auth/passkeys/login/options')
    const response = await ceremony(() => SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }))
    const session = await api('POST', path, { response })
    csrfToken = session.csrfToken
    await loadAccount()
    say(`Signed in as ${$('#me [data-field="username"]').textContent}.`)
  }))
}

$('#passkey-add').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    const { name } = fields(event.target)
    const optionsJSON = await api('POST', '/auth/passkeys/register/options')
    const response = await ceremony(() => SimpleWebAuthnBrowser.startRegistration({ optionsJSON }))
    const passkey = await api('POST', '/auth/passkeys/register', { ...(name === '' ? {} : { name }), response })
    event.target.reset()
    await loadAccount()
    say(`Passkey "${passkey.name}" added.`)
  })
})

function showRecoveryCodes (codes) {
  $('#recovery-list').replaceChildren(...codes.map(code => {
    const item = document.createElement('li')
    item.textContent = code
    return item
  }))
  $('#recovery-codes').hidden = false
}

$('#totp-start').addEventListener('click', () => run(async () => {
  const { secret, qrCode } = await api('POST', '/auth/mfa/totp')
  $('#totp-qr').src = `data:image/svg+xml,${encodeURIComponent(qrCode)}`
  $('#totp-secret').textContent = secret
  $('#totp-confirm').hidden = false
}))

$('#totp-confirm').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    const { recoveryCodes } = await api('POST', '/auth/mfa/totp/confirm', fields(event.target))
    event.target.reset()
    event.target.hidden = true
    await loadAccount()
    showRecoveryCodes(recoveryCodes)
    say('Two-step sign-in is on.')
  })
})

$('#recovery-renew').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    const { recoveryCodes } = await api('POST', '/auth/mfa/recovery-codes', fields(event.target))
    event.target.reset()
    await loadAccount()
    showRecoveryCodes(recoveryCodes)
    say('New recovery codes: the old ones no longer work.')
  })
})

$('#totp-off').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    await api('DELETE', '/auth/mfa/totp', fields(event.target))
    event.target.reset()
    $('#recovery-codes').hidden = true
    await loadAccount()
    say('Two-step sign-in is off.')
  })
})

$('#sign-in').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    const { username, password } = fields(event.target)
    const done = await signIn(username, password)
    event.target.reset()
    if (done) say(`Signed in as ${$('#me [data-field="username"]').textContent}.`)
  })
})

$('#sign-up').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    const account = fields(event.target)
    await api('POST', '/auth/register', account)
    await signIn(account.username, account.password)
    event.target.reset()
    say('Account created. You are signed in.')
  })
})

$('#password').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    await api('POST', '/auth/password', fields(event.target))
    event.target.reset()
    say('Password changed. Your other sessions have ended.')
    await loadAccount()
  })
})

// The forms that ask for a mail: the answer says what happens next.
for (const [form, path] of [['#forgot', '/auth/password/forgot'], ['#resend-verification', '/auth/email/verify/resend'], ['#email', '/auth/email']]) {
  $(form).addEventListener('submit', (event) => {
    event.preventDefault()
    run(async () => {
      const { message } = await api('POST', path, fields(event.target))
      event.target.reset()
      say(`${message}.`)
    })
  })
}

$('#resend').addEventListener('click', () => run(async () => {
  const { message } = await api('POST', '/auth/email/verify/resend', { email: $('#me [data-field="email"]').textContent })
  say(`${message}.`)
}))

$('#reload').addEventListener('click', () => run(loadAccount))

$('#sign-out').addEventListener('click', () => run(async () => {
  await api('POST', '/auth/logout')
  await signedOut('Signed out.')
}))

$('#sign-out-all').addEventListener('click', () => run(async () => {
  await api('POST', '/auth/logout-all')
  await signedOut('Signed out everywhere.')
}))

// A link from a mail carries its token in the fragment, which no server sees. It is read once and
// taken out of the address bar, so that it stays in neither the history nor a bookmark.
function linkToken () {
  const match = /^#(reset-password|verify-email)=([A-Za-z0-9_-]+)$/.exec(location.hash)
  if (match !== null) history.replaceState(null, '', location.pathname + location.search)
  return match === null ? null : { kind: match[1], token: match[2] }
}

let resetToken = null

$('#new-password').addEventListener('submit', (event) => {
  event.preventDefault()
  run(async () => {
    await api('POST', '/auth/password/reset', { token: resetToken, ...fields(event.target) })
    resetToken = null
    event.target.reset()
    await signedOut('Your password is set. Sign in with it.')
  })
})

// A link pasted into the open page changes only its fragment: start again, as on a new page.
window.addEventListener('hashchange', () => {
  if (/^#(reset-password|verify-email)=/.test(location.hash)) location.reload()
})

run(async () => {
  const link = linkToken()
  const { csrfToken: token, signedIn } = await api('GET', '/auth/csrf')
  csrfToken = token
  if (link?.kind === 'reset-password') {
    resetToken = link.token
    $('#signed-in').hidden = true
    $('#signed-out').hidden = true
    $('#reset').hidden = false
    return
  }
  if (link?.kind === 'verify-email') {
    try {
      const { email, changed } = await api('POST', '/auth/email/verify', { token: link.token })
      say(changed ? `Your address is now ${email}.` : `${email} is confirmed. Thank you.`)
    } catch (err) {
      // Said, and the page goes on to show the account or the sign-in forms.
      if (!(err instanceof ApiError)) throw err
      say(err.message, true)
    }
  }
  if (signedIn) await loadAccount()
  else show(false)
})
