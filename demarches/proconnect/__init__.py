"""ProConnect sign-in (issue 20): mozilla-django-oidc, with our rules on who gets in.

- `config`: what we ask ProConnect (scopes, acr, claims), the session keys shared with the
  second factor, what counts as MFA;
- `backend`: the authentication backend (tokens checked, the agent found or refused);
- `views`: login, callback, step-up, refusal page; `logout`: ending the ProConnect session too;
- `checks`: `check --deploy` refuses a sandbox or http ProConnect in production.

The reference on ProConnect itself lives outside the repository (docs/proconnect.md says where).
"""
