"""The programme page of the review app (issue 15): charts and rows from
:func:`stepdown.catalog.programme.programme_view`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepdown.web.charts import _layout, json_for_html

if TYPE_CHECKING:
    from analysis.result import JSONDoc
    from stepdown.catalog.programme import SetRow, WeekSummary


def _line(weeks: list[WeekSummary], key: str, name: str, scale: float = 1.0) -> JSONDoc:
    values = [getattr(w, key) for w in weeks]
    return {"type": "scatter", "mode": "lines+markers", "name": name,
            "x": [w.week for w in weeks],
            "y": [None if v is None else round(v * scale, 2) for v in values]}


def programme_charts(weeks: list[WeekSummary]) -> list[JSONDoc]:
    """The programme page's charts.

    Parameters
    ----------
    weeks : list of WeekSummary
        Per ISO week (:func:`stepdown.catalog.programme.weekly`).

    Returns
    -------
    list of dict
        Plotly figures (``id``, ``data``, ``layout``): control over weeks (heel taps
        without the band: controlled share, % and median knee medial displacement, cm,
        with the knee's measurement uncertainty shaded; holds: pelvis sway, degrees) and
        the training volume per week (:func:`volume_chart`); none without weeks.
    """
    from analysis.uncertainty import largest_uncertainty

    if not weeks:
        return []
    x = [w.week for w in weeks]
    knee_u = largest_uncertainty("knee_medial_cm") or 0.0
    knee = [w.knee_medial_cm for w in weeks]
    band = [{"type": "scatter", "mode": "lines", "x": x + x[::-1], "showlegend": False,
             "y": [None if v is None else v + knee_u for v in knee]
             + [None if v is None else v - knee_u for v in knee][::-1],
             "fill": "toself", "fillcolor": "rgba(31,95,168,0.12)", "line": {"width": 0},
             "hoverinfo": "skip", "name": "uncertainty"}]
    return [
        {"id": "programme_control", "data": [_line(weeks, "controlled_share", "controlled taps", 100)],
         "layout": _layout("Heel taps without band: controlled taps per week", "%",
                           yaxis={"title": {"text": "%"}, "range": [0, 105]})},
        {"id": "programme_knee", "data": band + [_line(weeks, "knee_medial_cm", "knee medial")],
         "layout": _layout(f"Heel taps without band: median knee medial per week "
                           f"(shaded ±{knee_u:g} cm: measurement uncertainty)", "cm")},
        {"id": "programme_sway", "data": [_line(weeks, "pelvis_sway_deg", "pelvis sway")],
         "layout": _layout("Holds: median pelvis sway per week (rms)", "°")},
        volume_chart(weeks),
    ]


def volume_chart(weeks: list[WeekSummary]) -> JSONDoc:
    """The programme's training volume per ISO week, on the programme page and beside the
    athlete's training load.

    Parameters
    ----------
    weeks : list of WeekSummary
        Per ISO week (:func:`stepdown.catalog.programme.weekly`).

    Returns
    -------
    dict
        A Plotly bar figure: heel taps as reps x load (kg), holds as time under tension (s).
    """
    x = [w.week for w in weeks]
    return {"id": "programme_volume",
            "data": [{"type": "bar", "name": "heel taps, reps x load (kg)", "x": x,
                      "y": [w.tap_volume_kg for w in weeks], "marker": {"color": "#90a4ae"}},
                     {"type": "bar", "name": "holds, time under tension (s)", "x": x,
                      "y": [w.hold_tut_s for w in weeks], "marker": {"color": "#ef8f00"}}],
            "layout": _layout("Programme volume per week", "kg / s", showlegend=True,
                              legend={"orientation": "h", "y": -0.25})}


def session_rows(sets: list[SetRow]) -> list[JSONDoc]:
    """The sessions table of the programme page.

    Parameters
    ----------
    sets : list of SetRow
        The athlete's sets, oldest first.

    Returns
    -------
    list of dict
        One row per set, newest first: ``day``, ``exercise``, ``band``, ``done`` (against
        what was prescribed), ``adherence`` (0-1), ``volume`` and ``control`` as text.
    """
    rows = []
    for s in reversed(sets):
        if s.exercise == "hold":
            done = f"{s.n_done} of {s.n_prescribed} holds" if s.n_prescribed else f"{s.n_done} holds"
            volume = f"{s.tut_s:.0f} s under tension" if s.tut_s is not None else "—"
            control = (f"pelvis sway {s.pelvis_sway_deg:.2f}°" if s.pelvis_sway_deg is not None
                       else "—")
        else:
            done = f"{s.n_done} of {s.n_prescribed} taps" if s.n_prescribed else f"{s.n_done} taps"
            step = f", {100 * s.step_height_m:.0f} cm" if s.step_height_m else ""
            volume = f"{s.n_done} x {s.load_kg:g} kg = {s.volume_kg or 0:g} kg{step}"
            control = ("—" if s.controlled_share is None else
                       f"{100 * s.controlled_share:.0f} % controlled, knee "
                       f"{'—' if s.knee_medial_cm is None else f'{s.knee_medial_cm:.1f} cm'}")
        rows.append({"day": s.day, "exercise": s.exercise.replace("_", " "), "band": s.band,
                     "done": done, "adherence": s.adherence, "volume": volume,
                     "control": control})
    return rows


def rx_value(v: Any) -> str:
    """A prescription value as a coach reads it.

    Parameters
    ----------
    v : Any
        A prescribed value (a bool, a number, a [min, max] pair).

    Returns
    -------
    str
        '30–45', 'yes' / 'no', '2.5'.
    """
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return "–".join(rx_value(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def programme_context(conn: Any, athlete_id: str) -> JSONDoc:
    """The programme page's template context (without session and athlete).

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.

    Returns
    -------
    dict
        ``prescription`` (exercise -> its JSON fields), ``coach_set``, ``plan``,
        ``weeks``, ``rows`` (:func:`session_rows`), ``charts`` (JSON for the page) and
        ``programme_file``.
    """
    from analysis.exercises.progression import prescriptions_json
    from stepdown.catalog.programme import programme_view

    view = programme_view(conn, athlete_id)
    return {"prescription": prescriptions_json(view.prescription), "coach_set": view.coach_set,
            "plan": view.plan, "weeks": view.weeks, "rows": session_rows(view.sets),
            "charts": json_for_html(programme_charts(view.weeks)),
            "programme_file": view.programme.rsplit("/", 1)[-1]}


FORM_FIELDS = {"heel_taps": ("sets", "reps", "step_cm", "load_kg", "band"),
               "hold": ("sets", "holds", "hold_s_min", "hold_s_max")}
"""The prescription form's inputs per exercise (hold_s comes as its min and max)."""


def prescribe_from_form(conn: Any, athlete_id: str, form: dict[str, str], author: str) -> None:
    """Store the coach's prescription posted from the programme page.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.
    form : dict of str to str
        The posted form: ``exercise`` and its fields (:data:`FORM_FIELDS`).
    author : str
        The signed-in user prescribing.

    Raises
    ------
    CatalogError
        One line (shown as a 400 page) when a value is wrong.
    """
    from sensor_io.errors import InputError
    from stepdown.catalog.db import CatalogError
    from stepdown.catalog.programme import set_prescription
    from stepdown.programme.views import parse_prescription

    exercise = form.get("exercise", "")
    if exercise not in FORM_FIELDS:
        raise CatalogError(f"unknown programme exercise {exercise!r}")
    values = {k: form.get(k, "").strip() for k in FORM_FIELDS[exercise]}
    if exercise == "heel_taps":
        values["band"] = "yes" if form.get("band") else "no"
    else:
        lo, hi = values.pop("hold_s_min"), values.pop("hold_s_max")
        if lo or hi:
            values["hold_s"] = f"{lo}-{hi}"
    try:
        rx = parse_prescription(exercise, [f"{k}={v}" for k, v in values.items() if v])
    except InputError as err:
        raise CatalogError(str(err)) from None
    set_prescription(conn, athlete_id, exercise, rx, author)
