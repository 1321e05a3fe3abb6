"""GATT identifiers of the Movesense gatt_sensordata_app (GSP) service:
the service and characteristics the streaming client and the emulated device use."""

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"
