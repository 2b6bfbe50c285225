"""fiblab: the service every hand-written Python model offers (see docs/DESIGN.md).

The protocol lives here once (core, tcp, http); each model under services/<model>/server.py
only decides how connections meet processes, threads or tasks.
"""
