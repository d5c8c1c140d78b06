"""Verifies a token the way another service would: PyJWT, the worker's published JWKS,
and nothing from this project. Prints the verified claims as JSON; exits 1 if refused.

    python verify.py <jwks url> <token> <issuer> <audience>
"""
import json
import sys

import jwt

jwks_url, token, issuer, audience = sys.argv[1:5]
try:
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=issuer, audience=audience,
                        options={"require": ["exp", "iat", "iss", "aud", "sub"]})
except jwt.PyJWTError as error:
    print(f"refused: {type(error).__name__}: {error}")
    sys.exit(1)
print(json.dumps(claims))
