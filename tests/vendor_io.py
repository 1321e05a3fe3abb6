"""A CommandIO straight onto an emulated vendor device (no BLE in between): the command
layers of :mod:`sensor_io.vendors` meet the emulated devices
(``sensor_io/vendors/*/emulator.py``), and every byte both ways is kept for the asserts."""

from __future__ import annotations

from sensor_io.vendors.common import AnswerTimeout, Command


class DeviceIO:
    """Writes go to ``device.on_write``; the device's answers are kept in order and a
    request takes the ones its matcher accepts (an answer that never comes times out)."""

    def __init__(self, make_device) -> None:
        self.answers: list[tuple[str, bytes]] = []
        self.writes: list[bytes] = []
        self.device = make_device(lambda uuid, data: self.answers.append((uuid, bytes(data))))

    async def write(self, cmd: Command) -> None:
        self.writes.append(cmd.data)
        self.device.on_write(cmd.char_uuid, cmd.data)

    async def read(self, char_uuid: str) -> bytes:
        return self.device.on_read(char_uuid)

    async def request(self, cmd, accept, what, *, done=None, timeout_s=3.0):
        seen = len(self.answers)
        if cmd is not None:
            await self.write(cmd)
        got = []
        for uuid, data in self.answers[seen:]:
            if accept(uuid, data):
                got.append(data)
                if (done or (lambda g: True))(got):
                    return got
        raise AnswerTimeout(f"no answer to {what} within {timeout_s:g} s")
