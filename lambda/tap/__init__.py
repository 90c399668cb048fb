"""The modules behind the tap Lambda handlers (validator, migrate, gate,
prerequisites); lambda/README.md has a table of them.

The handler modules at the image task root stay thin: they read the
environment, build dependencies once per container and delegate here, so that
everything in this package can be tested without AWS and without a container.
No module here imports a handler module, and there is no import cycle
(tests/test_import_graph.py).
"""
