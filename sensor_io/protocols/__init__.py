"""Wire protocols of BLE IMUs: pure decoders (bytes in, SI samples out) and command builders.

One module per vendor (:mod:`.witmotion`, :mod:`.movesense`, :mod:`.polar`,
:mod:`.movella`), sharing the
sample container and the device-profile shape of :mod:`.common`.  Nothing here touches
Bluetooth: the streaming client (:mod:`sensor_io.ble_client`) moves the bytes.
"""

from sensor_io.protocols.common import DeviceProfile, ProtocolError, Samples

__all__ = ["DeviceProfile", "ProtocolError", "Samples", "profile_for", "PROFILES"]


def _profiles() -> dict[str, DeviceProfile]:
    from sensor_io.protocols import movella, movesense, polar, witmotion

    return {p.model: p for p in (witmotion.PROFILE, movesense.PROFILE, polar.PROFILE,
                                 movella.PROFILE)}


PROFILES: dict[str, DeviceProfile] = _profiles()


def profile_for(service_uuids: list[str], name: str | None = None) -> DeviceProfile | None:
    """The profile whose service UUID is advertised (or whose name prefix matches), else None."""
    uuids = {u.lower() for u in service_uuids}
    for p in PROFILES.values():
        if p.service_uuid in uuids:
            return p
    for p in PROFILES.values():
        if name and any(name.startswith(prefix) for prefix in p.name_prefixes):
            return p
    return None
