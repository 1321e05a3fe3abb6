"""GATT identifiers of the WitMotion BWT901BLE (BLE 5.0) service:
the service and characteristics the streaming client and the emulated device use."""

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"
