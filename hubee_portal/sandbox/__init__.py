"""Built-in fake HubEE (the `teledossiers/v1` API an SI uses), served under /sandbox/.

State lives in this app's models; `services` drives the OSL side, `transport` runs the API
in-process for tests, and `hubee_sandbox_server` serves it to other processes.
"""
