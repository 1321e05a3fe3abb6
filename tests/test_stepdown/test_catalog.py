"""The session catalog: schema and migrations, storing analyses, labels, notes, accounts."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
import sqlalchemy.exc
from analysis_docs import contract_doc, contract_result

from stepdown.catalog import accounts, db, repo
from stepdown.catalog.repo import AthleteInfo


@pytest.fixture
def conn(tmp_path):
    c = db.connect(tmp_path / "catalog.sqlite3")
    yield c
    c.close()


def store(conn, athlete="a-017", sha="a" * 64, doc=None, **kw):
    return repo.store_test(conn, athlete=AthleteInfo(athlete, height_m=1.78),
                           analysis=repo.read_analysis(doc or contract_doc()),
                           recording_path=f"/rec/{sha[:8]}", content_sha256=sha, **kw)


def counts(conn) -> dict[str, int]:
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("athletes", "tests", "reps", "rep_items", "rep_measures", "test_items")}


def test_connect_sets_wal_foreign_keys_and_newest_schema(tmp_path):
    c = db.connect(tmp_path / "c.sqlite3")
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    newest = max(m.number for m in db.migrations())
    assert db.schema_version(c) == newest
    # Reopening applies nothing again.
    c.close()
    c2 = db.connect(tmp_path / "c.sqlite3")
    assert db.migrate(c2) == []
    assert {1} <= {r[0] for r in c2.execute("SELECT number FROM schema_migrations")}


def test_migration_numbered_below_an_applied_one_is_still_applied(tmp_path, monkeypatch):
    real = db.migrations()
    late = db.Migration(2, "late_feature", "CREATE TABLE late_feature (x INTEGER);")
    three = db.Migration(3, "third", "CREATE TABLE third (y INTEGER);")
    # A catalog created while only 0001 and 0003 existed ...
    monkeypatch.setattr(db, "migrations", lambda: [m for m in real if m.number == 1] + [three])
    c = db.connect(tmp_path / "c.sqlite3")
    assert db.schema_version(c) == 3
    c.close()
    # ... gets 0002 when it lands.
    monkeypatch.setattr(db, "migrations",
                        lambda: [m for m in real if m.number == 1] + [late, three])
    c = db.connect(tmp_path / "c.sqlite3")
    assert c.execute("SELECT COUNT(*) FROM late_feature").fetchone()[0] == 0
    assert db.schema_version(c) == 3


def test_broken_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    real = db.migrations()
    broken = db.Migration(9, "broken", "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;")
    monkeypatch.setattr(db, "migrations", lambda: real + [broken])
    with pytest.raises(db.CatalogError):
        db.connect(tmp_path / "c.sqlite3")
    monkeypatch.setattr(db, "migrations", lambda: real)
    c = db.connect(tmp_path / "c.sqlite3")
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in tables and "athletes" in tables


def test_not_a_database_is_one_clear_error(tmp_path):
    bad = tmp_path / "c.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(db.CatalogError, match="not a usable stepdown catalog"):
        db.connect(bad)


def test_store_and_read_back_a_test(conn):
    doc = contract_doc()
    test_id, created = store(conn, doc=doc, started_at="2026-11-24T17:03:00Z",
                             step_height_m=0.2, pain_nrs=[0, 0, 2, 1, 0])
    assert created
    t = repo.get_test(conn, test_id)
    assert t.summary.athlete_id == "a-017" and t.summary.category == "medium"
    assert t.summary.total == 2 and t.summary.piva_total == 2 and t.summary.rule == "majority"
    assert t.summary.n_reps == 5 and t.summary.any_pain
    assert t.sensors == ["pelvis", "thigh_left"]
    assert t.analysis.to_json() == doc  # the document is kept verbatim
    assert t.test_items["pelvis"] == 1
    assert [r.index for r in t.reps] == [1, 2, 3, 4, 5]
    r3 = t.reps[2]
    assert r3.measures["pelvic_drop_deg"] == pytest.approx(7.0)
    assert r3.measures["trunk_lean_deg"] is None
    assert r3.items["knee"] == 1 and r3.sources["knee"] == "rule"
    assert r3.pain_nrs == 2.0
    assert t.summary.mean_measures["pelvic_drop_deg"] == pytest.approx(7.0)  # mean of 5..9
    assert repo.get_athlete(conn, "a-017").height_m == 1.78


def test_single_pain_number_applies_to_every_rep(conn):
    test_id, _ = store(conn, pain_nrs=3)
    assert [r.pain_nrs for r in repo.get_test(conn, test_id).reps] == [3.0] * 5


def test_storing_the_same_recording_twice_changes_nothing(conn):
    first, created1 = store(conn)
    before = counts(conn)
    second, created2 = store(conn)
    assert (created1, created2) == (True, False) and first == second
    assert counts(conn) == before


def test_contract_violations_are_refused_and_store_nothing(conn):
    doc = contract_doc()
    doc["reps"][3] = dict(doc["reps"][3], items="oops")
    with pytest.raises(repo.AnalysisContractError, match="rep 4: items"):
        store(conn, doc=doc)
    bad_cat = contract_doc(category="excellent")
    with pytest.raises(repo.AnalysisContractError, match="category"):
        store(conn, doc=bad_cat)
    assert counts(conn)["tests"] == 0 and counts(conn)["athletes"] == 0


def test_a_document_breaking_the_contract_is_refused_where_it_is_read(conn):
    doc = contract_doc()
    doc["reps"][4]["measures"]["knee_medial_cm"] = "not a number"
    with pytest.raises(repo.AnalysisContractError, match="rep 5: measures.knee_medial_cm"):
        repo.read_analysis(doc)


def test_failure_midway_rolls_back_the_whole_test(conn):
    result = contract_result()
    reps = list(result.reps)
    bad = replace(reps[4].measures, knee_medial_cm="not a number")  # a bug upstream, say
    reps[4] = replace(reps[4], measures=bad)  # fails at the 5th rep, after four were written
    with pytest.raises(ValueError):
        repo.store_test(conn, athlete=AthleteInfo("a-017"),
                        analysis=replace(result, reps=tuple(reps)), recording_path="/rec/x",
                        content_sha256="a" * 64)
    assert counts(conn) == dict.fromkeys(counts(conn), 0)


def test_invalid_athlete_ids_are_refused(conn):
    for bad in ("../etc", "a b", "", "x" * 65, "a;DROP TABLE tests"):
        with pytest.raises(db.CatalogError, match="invalid athlete id"):
            store(conn, athlete=bad)


def test_tests_listed_in_time_order_with_summaries(conn):
    store(conn, sha="b" * 64, started_at="2026-11-20T10:00:00Z", doc=contract_doc(category="poor"))
    store(conn, sha="c" * 64, started_at="2026-10-01T10:00:00Z")
    store(conn, athlete="a-002", sha="d" * 64, started_at="2026-10-05T10:00:00Z")
    tests = repo.list_tests(conn, "a-017")
    assert [t.started_at[:10] for t in tests] == ["2026-10-01", "2026-11-20"]
    athletes = repo.list_athletes(conn)
    assert [a.athlete.id for a in athletes] == ["a-002", "a-017"]
    assert athletes[1].latest.category == "poor"
    assert [a.athlete.id for a in repo.list_athletes(conn, only={"a-017"})] == ["a-017"]


def test_coach_labels_sit_beside_the_automatic_verdict(conn):
    test_id, _ = store(conn)
    repo.add_label(conn, test_id, 2, "knee", 2, "coach-a")
    repo.add_label(conn, test_id, 2, "knee", 0, "coach-b")
    t = repo.get_test(conn, test_id)
    rep2 = t.reps[1]
    assert rep2.items["knee"] == 1  # automatic verdict untouched
    assert rep2.labels["knee"].value == 0 and rep2.labels["knee"].author == "coach-b"
    assert rep2.reviewed_items()["knee"] == 0
    assert [lab.value for lab in repo.label_history(conn, test_id, 2, "knee")] == [2, 0]
    assert t.summary.n_labels == 2
    # The stored analysis document is untouched too.
    assert t.analysis.reps[1].items["knee"].value == 1


@pytest.mark.parametrize("item,value,msg", [
    ("elbow", 1, "unknown checklist item"), ("pelvis", 2, "0-1"), ("knee", 3, "0-2"),
    ("knee", -1, "0-2"),
])
def test_bad_labels_are_refused(conn, item, value, msg):
    test_id, _ = store(conn)
    with pytest.raises(db.CatalogError, match=msg):
        repo.add_label(conn, test_id, 1, item, value, "coach")
    with pytest.raises(db.CatalogError, match="no rep 9"):
        repo.add_label(conn, test_id, 9, "knee", 1, "coach")


def test_notes(conn):
    test_id, _ = store(conn)
    repo.add_note(conn, test_id, "coach-a", "  Knee drifts in on the left.  ")
    repo.add_note(conn, test_id, "coach-a", "Rep 3 painful", rep_index=3)
    notes = repo.get_test(conn, test_id).notes
    assert [(n.rep_index, n.text) for n in notes] == [
        (None, "Knee drifts in on the left."), (3, "Rep 3 painful")]
    with pytest.raises(db.CatalogError, match="empty"):
        repo.add_note(conn, test_id, "coach-a", "   ")
    with pytest.raises(db.CatalogError, match="no test"):
        repo.add_note(conn, 999, "coach-a", "hello")


def test_sql_injection_in_values_is_stored_as_text(conn):
    test_id, _ = store(conn)
    evil = "x'); DROP TABLE tests; --"
    repo.add_note(conn, test_id, evil, evil)
    assert repo.get_test(conn, test_id).notes[0].text == evil
    assert counts(conn)["tests"] == 1


def test_export_rows_have_measures_items_sources_and_labels(conn):
    test_id, _ = store(conn, pain_nrs=[0, 1, 0, 0, 0])
    repo.add_label(conn, test_id, 1, "pelvis", 0, "coach")
    rows = repo.export_rows(conn)
    assert len(rows) == 5
    r1 = rows[0]
    assert r1["athlete_id"] == "a-017" and r1["rep_index"] == 1
    assert r1["pelvic_drop_deg"] == pytest.approx(5.0)
    assert r1["item_pelvis"] == 1 and r1["source_pelvis"] == "rule" and r1["label_pelvis"] == 0
    assert rows[1]["label_pelvis"] is None and rows[1]["pain_nrs"] == 1.0
    assert repo.export_rows(conn, {"nobody"}) == []


def test_foreign_keys_are_enforced(conn):
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        conn.execute("INSERT INTO reps (test_id, rep_index, start_s, end_s, total)"
                     " VALUES (999, 1, 0, 1, 0)")


# ---------------------------------------------------------------- accounts


def test_password_hash_is_scrypt_salted_and_verifies():
    h1, h2 = accounts.hash_password("correct horse"), accounts.hash_password("correct horse")
    assert h1.startswith("scrypt$131072$8$1$") and h1 != h2  # salted, n=2**17 (OWASP)
    assert "correct horse" not in h1
    assert accounts.verify_password("correct horse", h1)
    assert not accounts.verify_password("correct hors", h1)
    assert not accounts.verify_password("x", "garbage")


def test_users_see_only_assigned_athletes(conn):
    accounts.add_user(conn, "coach-a", "long enough pw", athletes=["a-017"])
    accounts.add_user(conn, "head", "long enough pw", sees_all=True)
    a = accounts.authenticate(conn, "coach-a", "long enough pw")
    assert a.can_see("a-017") and not a.can_see("a-002") and a.visible() == {"a-017"}
    assert accounts.authenticate(conn, "head", "long enough pw").visible() is None
    assert accounts.authenticate(conn, "coach-a", "wrong password") is None
    assert accounts.authenticate(conn, "nobody", "long enough pw") is None
    accounts.assign(conn, "coach-a", ["a-002"])
    assert accounts.get_user(conn, "coach-a").can_see("a-002")


@pytest.mark.parametrize("name,pw,msg", [
    ("Coach A", "long enough pw", "invalid user name"), ("coach", "short", "too short"),
])
def test_bad_accounts_are_refused(conn, name, pw, msg):
    with pytest.raises(db.CatalogError, match=msg):
        accounts.add_user(conn, name, pw)


def test_duplicate_user_refused(conn):
    accounts.add_user(conn, "coach", "long enough pw")
    with pytest.raises(db.CatalogError, match="already exists"):
        accounts.add_user(conn, "coach", "another long pw")


def test_sessions_store_only_a_token_hash_and_end(conn):
    accounts.add_user(conn, "coach", "long enough pw")
    token = accounts.start_session(conn, "coach")
    stored = [r[0] for r in conn.execute("SELECT token_sha256 FROM web_sessions")]
    assert token not in stored and len(stored) == 1
    s = accounts.get_session(conn, token)
    assert s.user.username == "coach" and len(s.csrf_token) >= 32
    assert accounts.get_session(conn, token + "x") is None
    assert accounts.get_session(conn, None) is None
    accounts.end_session(conn, token)
    assert accounts.get_session(conn, token) is None


def test_expired_sessions_are_refused(conn):
    accounts.add_user(conn, "coach", "long enough pw")
    token = accounts.start_session(conn, "coach")
    conn.execute("UPDATE web_sessions SET expires_at = '2000-01-01T00:00:00Z'")
    assert accounts.get_session(conn, token) is None


def test_contract_doc_fixture_is_not_mutated_by_store(conn):
    doc = contract_doc()
    snapshot = copy.deepcopy(doc)
    store(conn, doc=doc)
    assert doc == snapshot


def test_items_not_assessed_are_stored_as_null(conn):
    doc = contract_doc()
    for rep in doc["reps"]:
        rep["items"]["trunk"] = None
    doc["test"]["items"]["trunk"] = None
    test_id, _ = store(conn, doc=doc)
    t = repo.get_test(conn, test_id)
    assert t.reps[0].items["trunk"] is None and t.reps[0].sources["trunk"] == "not_assessed"
    assert t.test_items["trunk"] is None
