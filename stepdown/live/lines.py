"""The record command's terminal lines: sensor status and each rep's result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.rules import ITEMS

if TYPE_CHECKING:
    from sensor_io.ble_client import SensorStatus
    from stepdown.live.live_rep import LiveRep

SILENT_S = 2.0  # s without samples before a streaming sensor shows as NO DATA


def status_line(status: dict[str, SensorStatus], now_s: float) -> str:
    """One line: per sensor state, samples, gaps, reconnects, battery, signal.

    The state is NO DATA when silent > 2 s; a stopped or failed sensor shows the device's
    reason.

    Parameters
    ----------
    status : dict of str to SensorStatus
        Placement -> its sensor's counters.
    now_s : float
        The session clock now, s.

    Returns
    -------
    str
        Sensors separated by `` | ``; battery in V and %, signal in dBm.
    """
    parts = []
    for st in status.values():
        extra = f" {st.battery_v:.2f} V" if st.battery_v is not None else ""
        extra += f" {st.battery_pct} %" if st.battery_pct is not None else ""
        extra += f" {st.rssi} dBm" if st.rssi is not None else ""
        extra += f" {st.duplicates} dup" if st.duplicates else ""
        extra += f" {st.implausible} implausible" if st.implausible else ""
        extra += f" ({st.error})" if st.state in ("stopped", "failed") and st.error else ""
        state = "NO DATA" if st.silent_for(now_s) > SILENT_S else st.state
        parts.append(f"{st.placement} {state} {st.samples} smp {st.gaps} gaps"
                     f" {st.reconnects} reconn{extra}")
    return " | ".join(parts)


def rep_line(rep: LiveRep) -> str:
    """'rep 2: total 2  pelvis=1 knee=1~  (~ near its threshold)': the faults of a rep.

    A borderline item is marked with ~ (shown even at 0, as knee=0~), and the items its
    sensors could not measure (``rep.unmeasured_items``) are named: 'rep 3: total 0  knee
    not measured', never 'no faults' then.

    Parameters
    ----------
    rep : LiveRep
        The scored rep.

    Returns
    -------
    str
        One line.
    """
    items = rep.items
    near = set(rep.borderline)
    faults = " ".join(f"{k}={items[k]}{'~' if k in near else ''}" for k in ITEMS
                      if items.get(k) or k in near)
    legend = "  (~ near its threshold)" if near else ""
    if rep.unmeasured_items:
        return (f"rep {rep.index}: total {rep.total}  {faults + '  ' if faults else ''}"
                f"{', '.join(rep.unmeasured_items)} not measured{legend}")
    return f"rep {rep.index}: total {rep.total}  {faults or 'no faults'}{legend}"
