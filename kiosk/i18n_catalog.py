"""Every customer-facing string, one plain dict per language.

Add a key to *both* dicts with the same ``{placeholders}``; ``tests/kiosk/test_i18n.py`` fails otherwise.
Keys are dotted by screen or widget (``attract.title``). Amounts and dates arrive already formatted.
Language names are endonyms (the customer must find their own language), so they match in both dicts.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # -- shared ------------------------------------------------------------------------------
    "common.back": "Back",
    "common.cancel": "Cancel",
    "common.ok": "OK",
    "common.continue": "Continue",
    "common.done": "Done",
    "common.home": "Home",
    "common.exit": "Finish",
    "common.yes": "Yes",
    "common.no": "No",
    "common.please_wait": "Please wait…",
    "common.seconds": "{seconds} s",
    # -- attract -----------------------------------------------------------------------------
    "attract.welcome": "Welcome",
    "attract.title": "Welcome to {bank}",
    "attract.touch": "Touch the screen to start",
    "attract.hint.account": "Open a bank account in minutes with your ID card",
    "attract.hint.card": "Check your balance and transfer money with your card",
    "attract.hint.face": "Forgot your card? Log in with your face",
    "attract.hint.safety": "Cover the PIN pad with your hand when you enter your PIN",
    # -- language ----------------------------------------------------------------------------
    "language.title": "Please choose your language",
    "language.en": "English",
    "language.zh_CN": "简体中文",
    # -- main menu ---------------------------------------------------------------------------
    "menu.title": "What would you like to do?",
    "menu.insert_card": "Insert your card",
    "menu.insert_card.hint": "Balance, statement and transfers",
    "menu.face_login": "Log in with face",
    "menu.face_login.hint": "No card needed: look at the camera",
    "menu.open_account": "Open an account",
    "menu.open_account.hint": "Have your ID card ready",
    "menu.help": "Help",
    "menu.help.hint": "Questions and answers, or call a member of staff",
    "menu.unavailable": "Not available at this terminal",
    "menu.temporarily_unavailable": "Temporarily unavailable",
    "menu.unavailable.title": "Service not available",
    "menu.unavailable.body": "This service is not available at this terminal right now. "
    "Please use another terminal or ask our staff at the counter.",
    # -- idle timeout ------------------------------------------------------------------------
    "idle.warning": "Are you still there? Returning to the start screen in {seconds} s",
    "idle.more_time": "I need more time",
    # -- card return -------------------------------------------------------------------------
    "card.take.title": "Please take your card",
    "card.take.countdown": "Take your card within {seconds} s",
    "card.take.warning": "For your safety the card will be retained in {seconds} s",
    "card.retained.title": "Your card has been retained",
    "card.retained.body": "Your card was not taken in time and is kept safely inside the terminal. "
    "Please contact the branch staff with your ID card to collect it.",
    # -- out of service ----------------------------------------------------------------------
    "out_of_service.title": "Temporarily out of service",
    "out_of_service.body": "We are sorry for the inconvenience. "
    "Please use another terminal or visit the counter.",
    "out_of_service.terminal": "Terminal {kiosk_id}",
    "out_of_service.host.body": "We cannot reach the bank right now, so this terminal cannot serve you. "
    "Nothing has been changed. It will be back by itself in a few minutes; the counter can help you now.",
    # -- generic messages --------------------------------------------------------------------
    "message.success.title": "Done",
    "message.error.title": "Something went wrong",
    "message.error.body": "The operation could not be completed. Nothing has been charged to your account.",
    "message.info.title": "Information",
    "message.warning.title": "Attention",
    # -- busy --------------------------------------------------------------------------------
    "busy.working": "Please wait, we are working on it…",
    # -- keyboard and keypad -----------------------------------------------------------------
    "keyboard.space": "Space",
    "keyboard.enter": "Done",
    "keyboard.shift": "Shift",
    "keyboard.backspace": "Delete",
    "keyboard.letters": "ABC",
    "keyboard.digits": "123",
    "keyboard.symbols": "#+=",
    "keyboard.chinese": "中文",
    "keyboard.english": "EN",
    "keyboard.candidates.none": "No match, keep typing pinyin",
    "keypad.clear": "Clear",
    "keypad.confirm": "Confirm",
    # -- PIN entry ---------------------------------------------------------------------------
    "pin.prompt": "Enter your PIN on the PIN pad",
    "pin.shield": "Cover the keypad with your hand",
    "pin.progress": "{count} of {length} digits entered",
}

ZH_CN: dict[str, str] = {
    # -- shared ------------------------------------------------------------------------------
    "common.back": "返回",
    "common.cancel": "取消",
    "common.ok": "确定",
    "common.continue": "继续",
    "common.done": "完成",
    "common.home": "首页",
    "common.exit": "结束",
    "common.yes": "是",
    "common.no": "否",
    "common.please_wait": "请稍候……",
    "common.seconds": "{seconds} 秒",
    # -- attract -----------------------------------------------------------------------------
    "attract.welcome": "欢迎光临",
    "attract.title": "欢迎光临{bank}",
    "attract.touch": "请触摸屏幕开始",
    "attract.hint.account": "凭身份证，几分钟即可开立银行账户",
    "attract.hint.card": "插入银行卡，查询余额、转账汇款",
    "attract.hint.face": "忘带银行卡？刷脸即可登录",
    "attract.hint.safety": "输入密码时，请用手遮挡密码键盘",
    # -- language ----------------------------------------------------------------------------
    "language.title": "请选择语言",
    "language.en": "English",
    "language.zh_CN": "简体中文",
    # -- main menu ---------------------------------------------------------------------------
    "menu.title": "请选择您要办理的业务",
    "menu.insert_card": "插入银行卡",
    "menu.insert_card.hint": "查询余额、明细和转账",
    "menu.face_login": "刷脸登录",
    "menu.face_login.hint": "无需银行卡，请看向摄像头",
    "menu.open_account": "开立账户",
    "menu.open_account.hint": "请准备好您的身份证",
    "menu.help": "帮助",
    "menu.help.hint": "常见问题解答，或呼叫工作人员",
    "menu.unavailable": "本机暂不提供此服务",
    "menu.temporarily_unavailable": "暂时无法使用",
    "menu.unavailable.title": "暂不提供此服务",
    "menu.unavailable.body": "本机目前暂不提供此项服务。请使用其他设备，或前往柜台咨询工作人员。",
    # -- idle timeout ------------------------------------------------------------------------
    "idle.warning": "您还在吗？{seconds} 秒后将返回首页",
    "idle.more_time": "我需要更多时间",
    # -- card return -------------------------------------------------------------------------
    "card.take.title": "请取走您的银行卡",
    "card.take.countdown": "请在 {seconds} 秒内取走银行卡",
    "card.take.warning": "为保障您的资金安全，{seconds} 秒后银行卡将被吞没",
    "card.retained.title": "您的银行卡已被吞没",
    "card.retained.body": "由于未及时取卡，银行卡已安全保存在机器内。请携带身份证联系网点工作人员领取。",
    # -- out of service ----------------------------------------------------------------------
    "out_of_service.title": "暂停服务",
    "out_of_service.body": "给您带来不便，敬请谅解。请使用其他设备或前往柜台办理。",
    "out_of_service.terminal": "设备编号 {kiosk_id}",
    "out_of_service.host.body": "暂时无法连接银行系统，本机暂不能为您办理业务，未做任何变更。"
    "几分钟后将自动恢复；您也可以前往柜台办理。",
    # -- generic messages --------------------------------------------------------------------
    "message.success.title": "办理成功",
    "message.error.title": "操作未完成",
    "message.error.body": "本次操作未能完成，您的账户未发生扣款。",
    "message.info.title": "提示",
    "message.warning.title": "请注意",
    # -- busy --------------------------------------------------------------------------------
    "busy.working": "正在处理，请稍候……",
    # -- keyboard and keypad -----------------------------------------------------------------
    "keyboard.space": "空格",
    "keyboard.enter": "完成",
    "keyboard.shift": "大写",
    "keyboard.backspace": "删除",
    "keyboard.letters": "ABC",
    "keyboard.digits": "123",
    "keyboard.symbols": "#+=",
    "keyboard.chinese": "中文",
    "keyboard.english": "EN",
    "keyboard.candidates.none": "没有匹配的字，请继续输入拼音",
    "keypad.clear": "清除",
    "keypad.confirm": "确认",
    # -- PIN entry ---------------------------------------------------------------------------
    "pin.prompt": "请在密码键盘上输入密码",
    "pin.shield": "请用手遮挡密码键盘",
    "pin.progress": "已输入 {count} 位，共 {length} 位",
}

CATALOG: dict[str, dict[str, str]] = {"en": EN, "zh_CN": ZH_CN}


def _merge_area_catalogs() -> None:
    """Each area keeps its strings in ``kiosk/catalogs/<area>.py`` (``EN`` and ``ZH_CN`` dicts)."""
    import importlib
    import pkgutil

    import kiosk.catalogs as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"kiosk.catalogs.{module_info.name}")
        for lang, table in (("en", module.EN), ("zh_CN", module.ZH_CN)):
            clash = set(table) & set(CATALOG[lang])
            if clash:
                raise ValueError(f"{module_info.name} redefines {sorted(clash)[:3]}")
            CATALOG[lang].update(table)


_merge_area_catalogs()
