"""Wire codec for SAM-style ID card readers (China 2nd-generation resident ID card, GA 467 layout).

Frame: preamble ``AA AA AA 96 69``, ``LEN`` (2 bytes big-endian, counting every byte after itself
including the checksum), then a 2-byte command (host → reader) or a 3-byte status ``SW1 SW2 SW3``
(reader → host), data, and an XOR checksum over LEN..data.

Replies (SW3): ``90`` success, ``9F`` card found, ``80`` no card found, ``81`` select failed, ``41`` read
failed, ``10`` checksum error in the request, ``11`` length error, ``21`` unknown command.

Read (``30 01``) success data: text length (2 BE), photo length (2 BE), the text block, the photo. The
text block is 256 bytes of UCS-2LE, space padded: name 15 chars, sex 1, ethnicity 2, birth date 8
(YYYYMMDD), address 35, ID number 18, issuing authority 15, validity start 8, validity end 8 (or
``长期`` padded = no expiry), 18 reserved. Real readers send a WLT-compressed photo; ours is a JPEG.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from devices.id_reader.gb11643 import is_valid, mask_id_number

PREAMBLE = bytes.fromhex("AAAAAA9669")
MAX_LEN = 0xFFFF

CMD_FIND = bytes.fromhex("2001")
CMD_SELECT = bytes.fromhex("2002")
CMD_READ = bytes.fromhex("3001")
CMD_SAM_STATUS = bytes.fromhex("11FF")

SW_SUCCESS = bytes.fromhex("000090")
SW_FOUND = bytes.fromhex("00009F")
SW_NOT_FOUND = bytes.fromhex("000080")
SW_SELECT_FAILED = bytes.fromhex("000081")
SW_READ_FAILED = bytes.fromhex("000041")
SW_CHECKSUM_ERROR = bytes.fromhex("000010")
SW_LENGTH_ERROR = bytes.fromhex("000011")
SW_UNKNOWN_COMMAND = bytes.fromhex("000021")

TEXT_BLOCK_BYTES = 256
# (field, characters) in GA 467 order; 2 bytes per character in UCS-2LE
TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 15),
    ("sex", 1),
    ("ethnicity", 2),
    ("birth", 8),
    ("address", 35),
    ("id_number", 18),
    ("authority", 15),
    ("valid_from", 8),
    ("valid_until", 8),
    ("reserved", 18),
)
LONG_TERM = "长期"

SEXES: dict[str, tuple[str, str]] = {  # GB/T 2261.1
    "0": ("未知", "unknown"),
    "1": ("男", "male"),
    "2": ("女", "female"),
    "9": ("未说明", "unspecified"),
}
ETHNICITIES: dict[str, tuple[str, str]] = {  # GB 3304
    "01": ("汉", "Han"), "02": ("蒙古", "Mongol"), "03": ("回", "Hui"), "04": ("藏", "Tibetan"),
    "05": ("维吾尔", "Uyghur"), "06": ("苗", "Miao"), "07": ("彝", "Yi"), "08": ("壮", "Zhuang"),
    "09": ("布依", "Bouyei"), "10": ("朝鲜", "Korean"), "11": ("满", "Manchu"), "12": ("侗", "Dong"),
    "13": ("瑶", "Yao"), "14": ("白", "Bai"), "15": ("土家", "Tujia"), "16": ("哈尼", "Hani"),
    "17": ("哈萨克", "Kazakh"), "18": ("傣", "Dai"), "19": ("黎", "Li"), "20": ("傈僳", "Lisu"),
    "21": ("佤", "Va"), "22": ("畲", "She"), "23": ("高山", "Gaoshan"), "24": ("拉祜", "Lahu"),
    "25": ("水", "Sui"), "26": ("东乡", "Dongxiang"), "27": ("纳西", "Naxi"), "28": ("景颇", "Jingpo"),
    "29": ("柯尔克孜", "Kyrgyz"), "30": ("土", "Tu"), "31": ("达斡尔", "Daur"), "32": ("仫佬", "Mulao"),
    "33": ("羌", "Qiang"), "34": ("布朗", "Blang"), "35": ("撒拉", "Salar"), "36": ("毛南", "Maonan"),
    "37": ("仡佬", "Gelao"), "38": ("锡伯", "Xibe"), "39": ("阿昌", "Achang"), "40": ("普米", "Pumi"),
    "41": ("塔吉克", "Tajik"), "42": ("怒", "Nu"), "43": ("乌孜别克", "Uzbek"), "44": ("俄罗斯", "Russian"),
    "45": ("鄂温克", "Evenki"), "46": ("德昂", "De'ang"), "47": ("保安", "Bonan"), "48": ("裕固", "Yugur"),
    "49": ("京", "Gin"), "50": ("塔塔尔", "Tatar"), "51": ("独龙", "Derung"), "52": ("鄂伦春", "Oroqen"),
    "53": ("赫哲", "Hezhen"), "54": ("门巴", "Monba"), "55": ("珞巴", "Lhoba"), "56": ("基诺", "Jino"),
    "97": ("其他", "other"), "98": ("外国血统中国籍人士", "naturalised"),
}  # fmt: skip


class ProtocolError(ValueError):
    """Bytes that do not form a valid frame or field block."""


def xor_checksum(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


def _frame(head: bytes, data: bytes) -> bytes:
    length = len(head) + len(data) + 1
    if length > MAX_LEN:
        raise ProtocolError(f"frame too long ({length} > {MAX_LEN})")
    body = length.to_bytes(2, "big") + head + data
    return PREAMBLE + body + bytes([xor_checksum(body)])


def encode_command(command: bytes, data: bytes = b"") -> bytes:
    if len(command) != 2:
        raise ProtocolError("a command is 2 bytes")
    return _frame(command, data)


def encode_reply(status: bytes, data: bytes = b"") -> bytes:
    if len(status) != 3:
        raise ProtocolError("a reply status is 3 bytes (SW1 SW2 SW3)")
    return _frame(status, data)


@dataclass
class FrameDecoder:
    """Streaming decoder: feed bytes, get the payloads (bytes between LEN and the checksum) of whole
    frames. Bytes before a preamble are skipped; a frame with a bad checksum is reported as an error
    entry ``ProtocolError`` in the output so the reader can answer ``SW 00 00 10``."""

    max_len: int = MAX_LEN
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[bytes | ProtocolError]:
        self._buf += data
        out: list[bytes | ProtocolError] = []
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # keep a possible partial preamble at the tail
                keep = max(0, len(self._buf) - (len(PREAMBLE) - 1))
                del self._buf[:keep]
                return out
            if start:
                del self._buf[:start]
            if len(self._buf) < 7:
                return out
            length = int.from_bytes(self._buf[5:7], "big")
            if length < 3 or length > self.max_len:
                out.append(ProtocolError(f"bad frame length {length}"))
                del self._buf[:1]  # resynchronise on the next preamble
                continue
            total = 7 + length
            if len(self._buf) < total:
                return out
            body = bytes(self._buf[5 : total - 1])
            checksum = self._buf[total - 1]
            del self._buf[:total]
            if xor_checksum(body) != checksum:
                out.append(ProtocolError("checksum mismatch"))
                continue
            out.append(body[2:])


def decode_frame(frame: bytes) -> bytes:
    """One complete frame → the payload between LEN and checksum (command or status + data)."""
    if not frame.startswith(PREAMBLE):
        raise ProtocolError("missing preamble AA AA AA 96 69")
    if len(frame) < 10:
        raise ProtocolError("frame too short")
    length = int.from_bytes(frame[5:7], "big")
    if len(frame) != 7 + length:
        raise ProtocolError(f"LEN says {length} but {len(frame) - 7} bytes follow it")
    body = frame[5:-1]
    if xor_checksum(body) != frame[-1]:
        raise ProtocolError("checksum mismatch")
    return body[2:]


# -- identity -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    name: str
    sex_code: str
    ethnicity_code: str
    birth_date: dt.date
    address: str
    id_number: str
    authority: str
    valid_from: dt.date
    valid_until: dt.date | None  # None = long-term (长期)
    photo: bytes = b""

    @property
    def sex(self) -> str:
        return SEXES.get(self.sex_code, ("未知", "unknown"))[0]

    @property
    def sex_en(self) -> str:
        return SEXES.get(self.sex_code, ("未知", "unknown"))[1]

    @property
    def ethnicity(self) -> str:
        return ETHNICITIES.get(self.ethnicity_code, ("未知", "unknown"))[0]

    @property
    def ethnicity_en(self) -> str:
        return ETHNICITIES.get(self.ethnicity_code, ("未知", "unknown"))[1]

    @property
    def check_digit_ok(self) -> bool:
        return is_valid(self.id_number)

    def expired(self, today: dt.date | None = None) -> bool:
        if self.valid_until is None:
            return False
        return (today or dt.date.today()) > self.valid_until

    def __repr__(self) -> str:
        # personal data: the ID number is masked and the photo is not dumped
        return (
            f"Identity(name={self.name!r}, id_number={mask_id_number(self.id_number)!r}, "
            f"valid_until={self.valid_until}, photo={len(self.photo)} bytes)"
        )


def _fit(value: str, chars: int, field_name: str) -> str:
    if len(value) > chars:
        raise ProtocolError(f"{field_name} longer than {chars} characters")
    return value.ljust(chars)


def encode_text_block(identity: Identity) -> bytes:
    values = {
        "name": identity.name,
        "sex": identity.sex_code,
        "ethnicity": identity.ethnicity_code,
        "birth": identity.birth_date.strftime("%Y%m%d"),
        "address": identity.address,
        "id_number": identity.id_number,
        "authority": identity.authority,
        "valid_from": identity.valid_from.strftime("%Y%m%d"),
        "valid_until": identity.valid_until.strftime("%Y%m%d") if identity.valid_until else LONG_TERM,
        "reserved": "",
    }
    text = "".join(_fit(values[name], chars, name) for name, chars in TEXT_FIELDS)
    block = text.encode("utf-16-le")
    if len(block) != TEXT_BLOCK_BYTES:  # characters outside the BMP do not fit UCS-2
        raise ProtocolError("text fields contain characters UCS-2 cannot hold")
    return block


def _date(text: str, field_name: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise ProtocolError(f"{field_name} is not YYYYMMDD: {text!r}")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise ProtocolError(f"{field_name} is not a date: {text!r}") from exc


def decode_text_block(block: bytes) -> dict[str, str]:
    if len(block) != TEXT_BLOCK_BYTES:
        raise ProtocolError(f"text block must be {TEXT_BLOCK_BYTES} bytes, got {len(block)}")
    try:
        text = block.decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise ProtocolError("text block is not UCS-2LE") from exc
    fields: dict[str, str] = {}
    pos = 0
    for name, chars in TEXT_FIELDS:
        fields[name] = text[pos : pos + chars].rstrip(" \x00")
        pos += chars
    return fields


def encode_read_data(identity: Identity) -> bytes:
    text = encode_text_block(identity)
    if len(identity.photo) > MAX_LEN - 3 - 4 - len(text) - 1:
        raise ProtocolError("photo too large for one frame")
    return len(text).to_bytes(2, "big") + len(identity.photo).to_bytes(2, "big") + text + identity.photo


def decode_read_data(data: bytes) -> Identity:
    """The data of a successful ``30 01`` reply → :class:`Identity`."""
    if len(data) < 4:
        raise ProtocolError("read reply too short")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if len(data) != 4 + text_len + photo_len:
        raise ProtocolError(f"lengths {text_len}+{photo_len} do not match {len(data) - 4} bytes of data")
    fields = decode_text_block(data[4 : 4 + text_len])
    if fields["sex"] not in SEXES:
        raise ProtocolError(f"unknown sex code {fields['sex']!r}")
    if not (len(fields["ethnicity"]) == 2 and fields["ethnicity"].isdigit()):
        raise ProtocolError(f"bad ethnicity code {fields['ethnicity']!r}")
    if not fields["name"] or not fields["id_number"]:
        raise ProtocolError("name or ID number missing")
    until = fields["valid_until"]
    return Identity(
        name=fields["name"],
        sex_code=fields["sex"],
        ethnicity_code=fields["ethnicity"],
        birth_date=_date(fields["birth"], "birth date"),
        address=fields["address"],
        id_number=fields["id_number"],
        authority=fields["authority"],
        valid_from=_date(fields["valid_from"], "validity start"),
        valid_until=None if until == LONG_TERM else _date(until, "validity end"),
        photo=bytes(data[4 + text_len :]),
    )
