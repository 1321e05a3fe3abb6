"""GATT identifiers of the Polar PMD (Polar Measurement Data) service:
the service and characteristics the streaming client and the emulated device use."""

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"  # standard Battery Level, %
