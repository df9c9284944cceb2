"""Change PIN (a card session's service): the three PIN entries, the outcomes, the menu button."""

from __future__ import annotations

EN: dict[str, str] = {
    "services.change_pin": "Change PIN",
    "services.change_pin.hint": "Choose a new PIN for this card",
    "pin_change.current.title": "Enter your current PIN",
    "pin_change.current.body": "Enter the PIN you use now on the PIN pad, then press ENTER.",
    "pin_change.new.title": "Choose your new PIN",
    "pin_change.new.body": "Enter a new PIN of 4 to 6 digits on the PIN pad, then press ENTER.",
    "pin_change.confirm.title": "Enter your new PIN again",
    "pin_change.confirm.body": "Enter the same PIN again, then press ENTER.",
    "pin_change.mismatch": "The two new PINs were different. Please choose your new PIN again.",
    "pin_change.weak": "That PIN is too easy to guess: the same digit repeated (like 1111) or a straight "
    "run (like 1234 or 9876) is not accepted. Please choose another.",
    "pin_change.wrong": "That is not your current PIN. Tries left: {tries}.",
    "pin_change.wait": "Changing your PIN",
    "pin_change.done.title": "Your PIN has been changed",
    "pin_change.done.body": "From now on, use your new PIN with this card. Never tell anyone your PIN.",
    "pin_change.unavailable.title": "The bank could not be reached",
    "pin_change.unavailable.body": "Your PIN has not been changed. Please keep using your current PIN and "
    "try again later.",
    "pin_change.unconfirmed.title": "We could not confirm your PIN change",
    "pin_change.unconfirmed.body": "The bank did not answer in time, so we cannot tell whether your new PIN "
    "was saved. Next time, try your new PIN first; if it is not accepted, your current PIN still works.",
    "pin_change.not_available.title": "PIN change is not available here",
    "pin_change.not_available.body": "This terminal cannot change PINs right now. Your PIN has not been "
    "changed. Please use another terminal or visit the counter.",
    "pin_change.refused.title": "Your PIN could not be changed",
    "pin_change.refused.body": "Your PIN has not been changed. Please visit the counter for help.",
    "pin_change.too_many.body": "The new PIN was not accepted three times, so your PIN has not been "
    "changed. Please keep using your current PIN.",
    "retain.pin_change": "PIN entered wrongly too many times while changing the PIN",
}

ZH_CN: dict[str, str] = {
    "services.change_pin": "修改密码",
    "services.change_pin.hint": "为此卡设置新密码",
    "pin_change.current.title": "请输入当前密码",
    "pin_change.current.body": "请在密码键盘上输入您现在使用的密码，然后按“确认”键。",
    "pin_change.new.title": "请设置新密码",
    "pin_change.new.body": "请在密码键盘上输入 4 至 6 位新密码，然后按“确认”键。",
    "pin_change.confirm.title": "请再次输入新密码",
    "pin_change.confirm.body": "请再次输入相同的密码，然后按“确认”键。",
    "pin_change.mismatch": "两次输入的新密码不一致，请重新设置新密码。",
    "pin_change.weak": "密码过于简单：不接受同一数字重复（如 1111）或连续数字（如 1234、9876）的密码，"
    "请另选一个。",
    "pin_change.wrong": "当前密码不正确，还可尝试 {tries} 次。",
    "pin_change.wait": "正在修改密码",
    "pin_change.done.title": "密码已修改",
    "pin_change.done.body": "今后请使用新密码。请勿向任何人透露您的密码。",
    "pin_change.unavailable.title": "暂时无法连接银行",
    "pin_change.unavailable.body": "您的密码未修改，请继续使用当前密码，稍后再试。",
    "pin_change.unconfirmed.title": "无法确认密码是否已修改",
    "pin_change.unconfirmed.body": "银行未能及时应答，暂时无法确认新密码是否已生效。下次请先使用新密码；"
    "如不被接受，当前密码仍然有效。",
    "pin_change.not_available.title": "本终端暂不支持修改密码",
    "pin_change.not_available.body": "本终端目前无法修改密码，您的密码未修改。请使用其他终端或到柜台办理。",
    "pin_change.refused.title": "密码未能修改",
    "pin_change.refused.body": "您的密码未修改，请到柜台咨询。",
    "pin_change.too_many.body": "新密码三次均未被接受，您的密码未修改。请继续使用当前密码。",
    "retain.pin_change": "修改密码时密码输错次数过多",
}
