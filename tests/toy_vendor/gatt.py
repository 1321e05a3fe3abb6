"""GATT identifiers of the toy vendor's service."""

SERVICE_UUID = "0000aa00-0000-1000-8000-00805f9b34fb"
CONTROL_UUID = "0000aa01-0000-1000-8000-00805f9b34fb"  # write commands, notify answers
DATA_UUID = "0000aa02-0000-1000-8000-00805f9b34fb"     # notify samples
