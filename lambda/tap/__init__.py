"""Pure modules behind the tap Lambda handlers (validator, migrate, gate).

The handler modules at the image task root stay thin: they read the
environment, build dependencies once per container and delegate here, so that
everything in this package can be tested without AWS and without a container.
"""
