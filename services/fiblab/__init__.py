"""fiblab: the service every hand-written Python model offers (see docs/DESIGN.md).

The protocol lives here once (core, tcp, http, and session, which answers a connection without
doing its I/O); each model under services/<model>/server.py only decides how connections meet
processes, threads or tasks. The framework models serve the wsgi or asgi app.
"""
