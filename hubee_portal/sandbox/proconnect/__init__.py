"""A fake ProConnect (OpenID Connect provider), for development and tests: discovery, an
authorize page to pick a test identity, token, userinfo as a signed JWT, JWKS, end-session.
Real RS256 signatures with a key kept in the data folder. Served under
/sandbox/proconnect/api/v2/ only while HUBEE_SANDBOX is on; the portal's mozilla-django-oidc
talks to it over HTTP, unmodified."""
