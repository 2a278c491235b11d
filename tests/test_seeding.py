"""Seed files and the bundled workshop."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import Event, Question
from discussion.seeding import SeedError, parse_seed_text, read_seed


def test_bundled_workshop(app):
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.code == "smartcities"))
        assert event.title == "Smart Cities and Big Data: Boundless Opportunities?"
        assert event.date.isoformat() == "2016-12-08"
        assert "Guadalajara" in event.place
        assert "Privacy International" in event.moderator
        assert len(event.speakers) == 6 and any("UNESCO" in s for s in event.speakers)
        assert any("Karisma" in o for o in event.organisers)
        names = {t.name for t in event.topics}
        assert {"Consent", "Transparency", "Data provenance", "Privacy", "Security",
                "Accountability", "Public education", "Cost-benefit and risk",
                "Human rights"} <= names
        seeded = db.session.scalars(select(Question).where(Question.seeded.is_(True))).all()
        assert len(seeded) >= 8
        assert all(q.participant_id is None and q.status == "visible" for q in seeded)


def test_flask_seed_is_idempotent(runner, app):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and "0 new question(s)" in first.output
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Question))
        events = db.session.scalar(select(func.count()).select_from(Event))
    assert runner.invoke(args=["seed"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == count
        assert db.session.scalar(select(func.count()).select_from(Event)) == events


def test_seed_a_file_then_update_it(runner, app, tmp_path: Path):
    seed = tmp_path / "other.toml"
    seed.write_text(
        '[event]\ncode = "Taller-2"\ntitle = "Taller"\n'
        '[[topics]]\nname = "Protección de datos"\n'
        '[[questions]]\ntopic = "proteccion-de-datos"\nbody = "¿Qué datos guardamos?"\n',
        encoding="utf-8",
    )
    result = runner.invoke(args=["seed", str(seed)])
    assert result.exit_code == 0, result.output
    assert "1 new question(s)" in result.output
    seed.write_text(seed.read_text(encoding="utf-8") + '[[questions]]\nbody = "¿Y por cuánto?"\n',
                    encoding="utf-8")
    assert "1 new question(s)" in runner.invoke(args=["seed", str(seed)]).output
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.code == "taller-2"))
        assert [t.slug for t in event.topics] == ["proteccion-de-datos"]
        assert db.session.scalar(
            select(func.count()).select_from(Question).where(Question.event_id == event.id)
        ) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml = = =", "not valid TOML"),
        ('format = 2\n[event]\ncode = "ab"\ntitle = "x"', "unknown seed format"),
        ('[[questions]]\nbody = "x"', "[event] table is missing"),
        ('[event]\ncode = "no spaces allowed"\ntitle = "x"', "event code"),
        ('[event]\ncode = "ok-code"', "'title' is required"),
        ('[event]\ncode = "ok-code"\ntitle = "x"\n[[questions]]\ntopic = "nope"\nbody = "q"',
         "unknown topic"),
        ('[event]\ncode = "ok-code"\ntitle = "x"\n[[questions]]\nbody = ""', "must not be empty"),
    ],
)
def test_broken_seed_files_are_refused_whole(text, message):
    with pytest.raises(SeedError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_seed_text(text)


def test_cli_reports_a_broken_file_clearly(runner, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[event]\n", encoding="utf-8")
    result = runner.invoke(args=["seed", str(bad)])
    assert result.exit_code != 0 and "Error:" in result.output
    missing = runner.invoke(args=["seed", str(tmp_path / "missing.toml")])
    assert missing.exit_code != 0 and "cannot read" in missing.output


def test_read_seed_of_the_bundled_file_has_its_questions():
    from discussion.seeding import BUNDLED

    seed = read_seed(BUNDLED)
    assert seed["event"]["code"] == "smartcities"
    assert len(seed["questions"]) >= 8
