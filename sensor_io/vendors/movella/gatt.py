"""GATT identifiers of the Movella DOT (BLE Service Specification, XD0506P):
the service and characteristics the streaming client and the emulated device use."""


def uuid(short: int) -> str:
    """The DOT's 128-bit UUID of a 16-bit id.

    Parameters
    ----------
    short : int
        The 16-bit id.

    Returns
    -------
    str
        The 128-bit UUID, lower-case text.
    """
    return f"1517{short:04x}-4947-11e9-8646-d663bd873d93"


SERVICE_UUID = uuid(0x2000)
DEVICE_CONTROL_UUID = uuid(0x1002)
MEASUREMENT_CONTROL_UUID = uuid(0x2001)
MEDIUM_UUID = uuid(0x2003)
BATTERY_UUID = uuid(0x3001)
