"""Raw sensor frames -> anatomical segment frames (gyro bias, standing pose, functional axes)."""

from calibration.calibrate import (
    Calibration,
    CalibrationError,
    CalibrationLimits,
    SensorCalibration,
    calibrate,
    gyro_biases,
    standing_window,
)
from calibration.standing import StandingLimits, StandingWindow, find_standing_window

__all__ = ["Calibration", "CalibrationError", "CalibrationLimits", "SensorCalibration",
           "StandingLimits", "StandingWindow", "calibrate", "find_standing_window", "gyro_biases",
           "standing_window"]
