"""Built-in fake HubEE (the `teledossiers/v1` API an SI uses), served under /sandbox/.

Installed only while HUBEE_SANDBOX is on. State lives in this app's models; `services` drives
the OSL side, `pages` shows it to staff accounts, `transport` runs the API in-process for tests,
`hubee_sandbox_server` serves it to other processes, `contract` checks requests and answers
against HubEE's OpenAPI file (when HUBEE_SANDBOX_OPENAPI names it) and `content` writes the
files of each démarche. The demo of `make run` lives in hubee_portal.demo.
"""
