# A machine client written with Authlib (https://docs.authlib.org), as a team would write one:
# it gets a token by client credentials, calls a protected route with it, and introspects it.
# Run by test/e2e/authlib.test.ts: python3 machine-client.py <base URL> <method> <client id> <secret or private key PEM>
import json
import sys

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

base, method, client_id, credential = sys.argv[1:5]
token_endpoint = base + '/auth/token'
# Introspection authenticates as the revocation endpoint does, which Authlib configures apart.
session = OAuth2Session(client_id, credential, token_endpoint_auth_method=method, revocation_endpoint_auth_method=method,
                        scope='users:read tokens:introspect')
if method == 'private_key_jwt':
    session.register_client_auth_method(PrivateKeyJWT(token_endpoint, alg='RS256'))
token = session.fetch_token(token_endpoint, grant_type='client_credentials')
protected = session.get(base + '/admin/users?limit=1')
introspected = session.introspect_token(base + '/auth/introspect', token=token['access_token'])
print(json.dumps({
    'token': {key: token[key] for key in token if key != 'access_token'},
    'protected': protected.status_code,
    'users': protected.json().get('users'),
    'introspection_status': introspected.status_code,
    'introspection': introspected.json(),
}))
