"""The seeded face-login customer: her template comes from the shared test photo at seed time; without the
folder the seed still stands and says why face login cannot be tried."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bank.face import find_customer, template_from_photo, template_vector
from bank.models import Customer
from bank.security.vault import Vault
from bank.seed import FACE_LOGIN_CUSTOMERS, SEED_CUSTOMERS, default_faces_dir, seed_bank

from .conftest import stand_in_pvv  # type: ignore[import-not-found]

FACES = default_faces_dir()
needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason="the shared test faces are not here")


def _counting(calls: list[Path]) -> Callable[[Path], bytes]:
    def template_for(photo: Path) -> bytes:
        calls.append(photo)
        return template_from_photo(photo)

    return template_for


def _templates(engine: Engine) -> dict[str, bytes | None]:
    with Session(engine) as session:
        return {c.name: c.face_template for c in session.scalars(select(Customer))}


def test_the_face_login_customer_has_a_fixture_card_photo_but_not_a_fixture_identity() -> None:
    from simulators.id_reader.cards import FIXTURE_CARDS

    assert len(FACE_LOGIN_CUSTOMERS) == 1
    spec = FACE_LOGIN_CUSTOMERS[0]
    # Opening with a fixture card must stay possible: the bank refuses an ID number it already knows.
    assert spec.id_number not in {card.identity.id_number for card in FIXTURE_CARDS.values()}
    assert spec.face_photo in {card.photo_file for card in FIXTURE_CARDS.values()}


@needs_faces
def test_seeding_enrols_the_face_from_the_shared_photo_once(engine: Engine, vault: Vault) -> None:
    calls: list[Path] = []
    with Session(engine) as session:
        report = seed_bank(
            session, vault, pvv_for=stand_in_pvv, faces_dir=FACES, template_for=_counting(calls)
        )
    spec = FACE_LOGIN_CUSTOMERS[0]
    assert spec.face_photo is not None
    assert report.created and report.faces_enrolled == (spec.name,) and report.face_problems == ()
    assert calls == [FACES / spec.face_photo]
    templates = _templates(engine)
    assert {name for name, template in templates.items() if template is not None} == {spec.name}
    stored = template_vector(templates[spec.name])
    expected = template_vector(template_from_photo(FACES / spec.face_photo))
    assert stored is not None and expected is not None and np.allclose(stored, expected)
    found = find_customer(engine, vault, "id_number", spec.id_number)
    assert found is not None and found["has_template"] is True and found["accounts"]
    assert find_customer(engine, vault, "phone", spec.phone) == found

    with Session(engine) as session:
        again = seed_bank(
            session, vault, pvv_for=stand_in_pvv, faces_dir=FACES, template_for=_counting(calls)
        )
    assert not again.created and again.faces_enrolled == () and len(calls) == 1  # not computed again


def test_without_the_faces_folder_seeding_says_so_and_skips_only_the_face(
    engine: Engine, vault: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-faces"
    with Session(engine) as session:
        report = seed_bank(session, vault, pvv_for=stand_in_pvv, faces_dir=missing)
    assert report.created and report.customers == len(SEED_CUSTOMERS) and report.faces_enrolled == ()
    assert len(report.face_problems) == 1
    assert str(missing) in report.face_problems[0] and "face login cannot be tried" in report.face_problems[0]
    assert "face login cannot be tried" in caplog.text
    templates = _templates(engine)
    assert set(templates) == {spec.name for spec in SEED_CUSTOMERS}
    assert all(template is None for template in templates.values())


@needs_faces
def test_a_later_seed_with_the_folder_enrols_the_face_it_skipped(
    engine: Engine, vault: Vault, tmp_path: Path
) -> None:
    with Session(engine) as session:
        seed_bank(session, vault, pvv_for=stand_in_pvv, faces_dir=tmp_path / "absent")
    with Session(engine) as session:
        report = seed_bank(session, vault, pvv_for=stand_in_pvv, faces_dir=FACES)
    assert not report.created and report.faces_enrolled == (FACE_LOGIN_CUSTOMERS[0].name,)


def test_a_photo_without_exactly_one_face_is_a_problem_not_a_crash(
    engine: Engine, vault: Vault, tmp_path: Path
) -> None:
    spec = FACE_LOGIN_CUSTOMERS[0]
    assert spec.face_photo is not None
    (tmp_path / spec.face_photo).write_bytes(b"not an image")
    with Session(engine) as session:
        report = seed_bank(session, vault, pvv_for=stand_in_pvv, faces_dir=tmp_path)
    assert report.created and report.faces_enrolled == ()
    assert "not a readable image" in report.face_problems[0]
