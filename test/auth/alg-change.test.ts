// Changing JWT_ALG on a running deployment: the next start signs with a key of the new algorithm
// at once, and the tokens the old key signed stay good until they expire. Nobody is logged out.
import t from 'tap'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { bearer, build, decodeJwt, register, tempDir, token } from '../helper.js'

t.test('ES256, then EdDSA: old tokens and refresh tokens keep working; both keys published while they matter', async t => {
  const dir = tempDir(t)
  const before = await build(t, { JWT_ALG: 'ES256' }, { dir })
  const user = await register(before)
  const tokens = await token(before, user.username)
  t.equal(decodeJwt(tokens.access_token).header.alg, 'ES256')
  await before.close()

  const after = await build(t, { JWT_ALG: 'EdDSA' }, { dir })
  t.equal((await after.inject({ url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode, 200, 'the ES256 token is still taken')
  const refreshed = await after.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.equal(refreshed.statusCode, 200, 'the refresh token too')
  const fresh = refreshed.json().access_token as string
  t.equal(decodeJwt(fresh).header.alg, 'EdDSA', 'and the new token is EdDSA')
  t.same((await after.inject({ url: '/.well-known/jwks.json' })).json().keys.map((key: { alg: string }) => key.alg).sort(), ['ES256', 'EdDSA'])
  await after.listen({ host: '127.0.0.1', port: 0 })
  const { port } = after.server.address() as { port: number }
  const keys = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`))
  for (const accessToken of [tokens.access_token, fresh]) t.equal((await jwtVerify(accessToken, keys)).payload.sub, user.id, `a resource server verifies ${decodeJwt(accessToken).header.alg}`)
})
