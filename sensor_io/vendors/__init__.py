"""Supported BLE IMUs, one folder per vendor, and the registry that lists them.

Each folder ``sensor_io/vendors/<name>/`` holds the vendor's GATT identifiers
(``gatt.py``), its wire protocol and start/stop procedures (``protocol.py``: pure
decoders, bytes in and SI samples out, and the command layer over
:class:`~sensor_io.vendors.common.CommandIO`), its emulated device (``emulator.py``) and
its :class:`~sensor_io.vendors.base.Vendor` entry (``__init__.py``).  What every vendor
shares (the sample batch, the device profile, the command interface) is in
:mod:`.common`.  Nothing here touches Bluetooth: the streaming client
(:mod:`sensor_io.ble_client`) moves the bytes; the generic emulator
(:mod:`sensor_io.ble_emulation`) plays any registered vendor's device.

Adding a vendor: write its folder and add its name to :data:`BUILT_IN` (or call
:func:`register` with its entry).
"""

from __future__ import annotations

from importlib import import_module

from sensor_io.vendors.base import Vendor
from sensor_io.vendors.common import DeviceProfile

__all__ = ["VENDORS", "Vendor", "profile_for", "register", "vendor_of"]

VENDORS: dict[str, Vendor] = {}
"""Registered vendors by folder name, in the order a device is matched against them."""


def register(vendor: Vendor) -> Vendor:
    """Add ``vendor`` to the registry (replacing one of the same name).

    Parameters
    ----------
    vendor : Vendor
        The vendor's entry.

    Returns
    -------
    Vendor
        ``vendor`` itself.
    """
    VENDORS[vendor.name] = vendor
    return vendor


def vendor_of(profile: DeviceProfile) -> Vendor:
    """The registered vendor whose profile is ``profile``.

    Parameters
    ----------
    profile : DeviceProfile
        A registered vendor's profile (the same object).

    Returns
    -------
    Vendor
        Its entry; ValueError when none is registered.
    """
    for v in VENDORS.values():
        if v.profile is profile:
            return v
    raise ValueError(f"no registered vendor for {profile.model}")


def profile_for(service_uuids: list[str], name: str | None = None) -> DeviceProfile | None:
    """The profile whose service UUID is advertised (or whose name prefix matches), else None.

    Parameters
    ----------
    service_uuids : list of str
        The advertised service UUIDs (any case).
    name : str, optional
        The advertised device name.

    Returns
    -------
    DeviceProfile or None
        The first match by service UUID, else by name prefix, else None.
    """
    uuids = {u.lower() for u in service_uuids}
    profiles = [v.profile for v in VENDORS.values()]
    for p in profiles:
        if p.service_uuid in uuids:
            return p
    for p in profiles:
        if name and any(name.startswith(prefix) for prefix in p.name_prefixes):
            return p
    return None


BUILT_IN = (
    "witmotion",
    "movesense",
    "polar",
    "movella",
)
for _name in BUILT_IN:
    register(import_module(f"sensor_io.vendors.{_name}").VENDOR)
