"""Test-only BLE emulation tiers (the in-process bleak backend lives in
:mod:`sensor_io.ble_emulation`, as the app's --emulate demo needs it)."""
