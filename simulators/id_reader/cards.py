"""Fixture ID cards: fictitious people whose photos are faces from ``<repo>/../shared/faces``.

All numbers carry a valid GB 11643 check digit except ``bad_check_digit``; ``expired`` ran out in 2020.
Photos are read at runtime (never copied into the repository), centre-cropped to the ID photo's 4:5
shape and re-encoded as JPEG in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from devices.id_reader.protocol import Identity

PHOTO_SIZE = (240, 300)  # larger than a real card's 102x126 so face matching has pixels to work with


def default_faces_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "faces"


@dataclass(frozen=True)
class FixtureCard:
    card_id: str
    identity: Identity  # without photo
    photo_file: str


def _identity(
    name: str, sex: str, eth: str, birth: str, address: str, number: str, authority: str,
    valid_from: str, valid_until: str | None,
) -> Identity:  # fmt: skip
    return Identity(
        name=name,
        sex_code=sex,
        ethnicity_code=eth,
        birth_date=dt.date.fromisoformat(birth),
        address=address,
        id_number=number,
        authority=authority,
        valid_from=dt.date.fromisoformat(valid_from),
        valid_until=dt.date.fromisoformat(valid_until) if valid_until else None,
    )


FIXTURE_CARDS: dict[str, FixtureCard] = {
    card.card_id: card
    for card in (
        FixtureCard("li_minghua", _identity(
            "李明华", "1", "01", "1985-03-12", "北京市朝阳区建国路88号院3号楼1单元502室",
            "110105198503122317", "北京市公安局朝阳分局", "2015-06-01", "2035-06-01"), "obama_1.jpg"),
        FixtureCard("wang_fang", _identity(
            "王芳", "2", "01", "1990-07-18", "上海市徐汇区漕溪北路595号12楼",
            "310104199007184629", "上海市公安局徐汇分局", "2018-09-20", "2038-09-20"), "biden_1.jpg"),
        FixtureCard("zhao_jianguo", _identity(
            "赵建国", "1", "08", "1978-11-05", "广东省深圳市南山区科技园南路18号",
            "440305197811051533", "深圳市公安局南山分局", "2016-01-10", None), "alex_lacamoire_1.png"),
        FixtureCard("chen_xiaoyan", _identity(
            "陈晓燕", "2", "04", "1995-12-24", "四川省成都市武侯区人民南路四段27号",
            "510107199512240085", "成都市公安局武侯区分局", "2020-03-15", "2030-03-15"),
            "lin_manuel_miranda_1.png"),
        FixtureCard("expired", _identity(
            "刘长青", "1", "01", "1970-01-01", "北京市海淀区中关村大街1号",
            "110108197001011232", "北京市公安局海淀分局", "2000-01-01", "2020-01-01"), "obama_2.jpg"),
        FixtureCard("bad_check_digit", _identity(
            "孙立新", "1", "01", "1983-06-15", "江苏省南京市玄武区中山路100号",
            "320102198306153310", "南京市公安局玄武分局", "2019-05-05", "2039-05-05"), "biden_2.jpg"),
    )
}  # fmt: skip


def load_photo_jpeg(path: Path, size: tuple[int, int] = PHOTO_SIZE, quality: int = 85) -> bytes:
    """Centre-crop to the target aspect ratio, resize and encode as JPEG (in memory)."""
    with Image.open(path) as img:
        rgb = img.convert("RGB")
    target_ratio = size[0] / size[1]
    width, height = rgb.size
    if width / height > target_ratio:
        new_w = round(height * target_ratio)
        box = ((width - new_w) // 2, 0, (width - new_w) // 2 + new_w, height)
    else:
        new_h = round(width / target_ratio)
        box = (0, (height - new_h) // 2, width, (height - new_h) // 2 + new_h)
    out = io.BytesIO()
    rgb.crop(box).resize(size, Image.Resampling.LANCZOS).save(out, "JPEG", quality=quality)
    return out.getvalue()


def card_with_photo(card_id: str, faces_dir: Path) -> Identity:
    card = FIXTURE_CARDS.get(card_id)
    if card is None:
        raise ValueError(f"unknown card {card_id!r}; known: {', '.join(FIXTURE_CARDS)}")
    return replace(card.identity, photo=load_photo_jpeg(faces_dir / card.photo_file))
