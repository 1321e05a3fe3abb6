"""Body dimensions from height by standard anthropometric ratios.

Segment-length ratios of body height follow Winter (Biomechanics and Motor
Control of Human Movement, 4th ed., table 4.1): thigh 0.245 H, shank 0.246 H.
Hip joint centre separation ~0.10 H and pelvis-to-sternum ~0.30 H are rounded
values from the same body of literature; they only set lever arms here.
"""

from __future__ import annotations

from dataclasses import dataclass

THIGH_RATIO = 0.245
SHANK_RATIO = 0.246
HIP_WIDTH_RATIO = 0.10
TRUNK_RATIO = 0.30
DEFAULT_HEIGHT_M = 1.75
DEFAULT_FOOT_MEDIAL_OFFSET_M = 0.035


@dataclass(frozen=True)
class Body:
    """Segment dimensions in m."""

    height_m: float
    """Body height, m."""
    thigh_m: float
    """Thigh length (hip to knee joint centre), m."""
    shank_m: float
    """Shank length (knee to ankle joint centre), m."""
    hip_width_m: float
    """Separation of the hip joint centres, m."""
    trunk_m: float
    """Pelvis-to-sternum length, m."""
    foot_medial_offset_m: float
    """Medial offset of the foot from the ankle, m."""

    @classmethod
    def from_height(
        cls, height_m: float = DEFAULT_HEIGHT_M, *, thigh_m: float | None = None,
        shank_m: float | None = None, foot_medial_offset_m: float | None = None,
    ) -> Body:
        """Body scaled from height (m); measured lengths override the ratios.

        Parameters
        ----------
        height_m : float
            Body height, m.
        thigh_m : float, optional
            Measured thigh length, m; None: THIGH_RATIO * height.
        shank_m : float, optional
            Measured shank length, m; None: SHANK_RATIO * height.
        foot_medial_offset_m : float, optional
            Measured medial foot offset, m; None: DEFAULT_FOOT_MEDIAL_OFFSET_M.

        Returns
        -------
        Body
            The segment dimensions, m.
        """
        return cls(
            height_m=height_m,
            thigh_m=thigh_m if thigh_m is not None else THIGH_RATIO * height_m,
            shank_m=shank_m if shank_m is not None else SHANK_RATIO * height_m,
            hip_width_m=HIP_WIDTH_RATIO * height_m,
            trunk_m=TRUNK_RATIO * height_m,
            foot_medial_offset_m=(foot_medial_offset_m if foot_medial_offset_m is not None
                                  else DEFAULT_FOOT_MEDIAL_OFFSET_M),
        )
