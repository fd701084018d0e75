"""Device status writes (include/linux/lguest_launcher.h: struct lguest_device_desc)."""

from __future__ import annotations

from .effects import Effect
from .registry import rule


@rule("include/linux/lguest_launcher.h: lguest_device_desc")
def status_write(ops, st, g, dev, value, by, when=True):
    """A store into a device's status; by is "guest" or "launcher" (checked in apply: bits only ever set)."""
    return [Effect("status", when, guest=g, dev=dev, value=value, by=by)]
