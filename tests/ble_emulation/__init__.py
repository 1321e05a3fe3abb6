"""Test-only BLE emulation: fault scripts (:mod:`.faults`) and the bumble tier (the
in-process bleak backend lives in :mod:`sensor_io.ble_emulation`, as the app's --emulate
demo needs it)."""
