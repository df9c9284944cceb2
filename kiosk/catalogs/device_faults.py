"""Device faults in a technician's words: for each fault a plain sentence and a short numbered fix list,
English and Simplified Chinese.

Kept as data so a new fault is one entry here; :mod:`kiosk.maintenance.faults` maps what a driver reports
(its state, its error text, a failed self-test check) to one of these. The entries become catalogue keys
``maint.fault.<device>.<fault>`` (the sentence) and ``maint.fault.<device>.<fault>.steps`` (the steps, one
per line), so the catalogue's completeness test covers both languages. ``any`` holds the faults every
device class can be in; ``{device}`` there is the device's name. ``{self_test}`` and the like in a step
are the button's own label (``maint.action.self_test``), so a step names exactly what the page shows.
"""

from __future__ import annotations

# device -> fault -> language -> (sentence, fix steps)
FaultTexts = dict[str, tuple[str, tuple[str, ...]]]

FAULTS: dict[str, dict[str, FaultTexts]] = {
    "any": {
        "offline": {
            "en": (
                "The {device} does not answer.",
                (
                    "Check that its cable is plugged in at both ends",
                    "Check that it has power",
                    "Press {restart}",
                ),
            ),
            "zh_CN": ("{device}无响应。", ("检查连接线两端是否插好", "检查设备是否通电", "按“{restart}”")),
        },
        "power_off": {
            "en": (
                "The {device} has no power.",
                ("Switch the device on", "Check its power cable", "Press {self_test}"),
            ),
            "zh_CN": ("{device}未通电。", ("打开设备电源", "检查电源线", "按“{self_test}”")),
        },
        "no_device": {
            "en": (
                "No {device} was found at its configured address.",
                ("Check that the device is fitted", "Check the address in Settings", "Press {restart}"),
            ),
            "zh_CN": (
                "在配置的地址上未找到{device}。",
                ("检查设备是否已安装", "在“设置”中核对地址", "按“{restart}”"),
            ),
        },
        "hardware_error": {
            "en": (
                "The {device} reports a hardware fault.",
                (
                    "Open the device and look for anything stuck",
                    "Press {restart}",
                    "If it stays, call service",
                ),
            ),
            "zh_CN": (
                "{device}报告硬件故障。",
                ("打开设备检查是否有异物卡住", "按“{restart}”", "仍未恢复请联系维修"),
            ),
        },
        "user_error": {
            "en": (
                "The {device} needs attention.",
                (
                    "Look at the device for an open cover or missing supply",
                    "Fix what you find",
                    "Press {self_test}",
                ),
            ),
            "zh_CN": (
                "{device}需要处理。",
                ("检查设备是否有盖板未关或耗材缺失", "处理发现的问题", "按“{self_test}”"),
            ),
        },
        "fraud_attempt": {
            "en": (
                "The {device} reports tampering. Do not use it.",
                (
                    "Take the terminal out of service",
                    "Check the device for foreign parts",
                    "Report it to security",
                ),
            ),
            "zh_CN": (
                "{device}报告被撬动，请勿使用。",
                ("将终端暂停服务", "检查设备上是否有外加装置", "报告安保部门"),
            ),
        },
    },
    "card_reader": {
        "jam": {
            "en": (
                "A card is stuck inside the card reader.",
                ("Open the reader cover", "Remove the card", "Close the cover", "Press {self_test}"),
            ),
            "zh_CN": ("有卡片卡在读卡器内。", ("打开读卡器盖板", "取出卡片", "关好盖板", "按“{self_test}”")),
        },
        "bin_full": {
            "en": (
                "The retain bin is full: the reader cannot keep more cards.",
                (
                    "Open the reader and take out the retain bin",
                    "Count the cards",
                    "Enter the count and press {empty_bin}",
                ),
            ),
            "zh_CN": (
                "回收箱已满，读卡器无法再吞卡。",
                ("打开读卡器取出回收箱", "清点卡片", "输入张数后按“{empty_bin}”"),
            ),
        },
        "card_in_path": {
            "en": (
                "A card is still in the card path.",
                ("Press {clear_card}", "Take the card from the slot", "Press {self_test}"),
            ),
            "zh_CN": ("卡通道中仍有卡片。", ("按“{clear_card}”", "从卡口取走卡片", "按“{self_test}”")),
        },
        "init_failed": {
            "en": (
                "The card reader refused to start up.",
                ("Switch the reader off and on", "Press {restart}", "Press {self_test}"),
            ),
            "zh_CN": (
                "读卡器无法完成初始化。",
                ("关闭后重新打开读卡器电源", "按“{restart}”", "按“{self_test}”"),
            ),
        },
        "shutter": {
            "en": (
                "The card slot shutter does not open and close.",
                ("Look for dirt or a bent card at the slot", "Clean the slot", "Press {self_test}"),
            ),
            "zh_CN": ("卡口闸门无法正常开合。", ("检查卡口是否有污物或弯卡", "清洁卡口", "按“{self_test}”")),
        },
    },
    "card_dispenser": {
        "jam": {
            "en": (
                "A card is stuck in the card dispenser.",
                ("Open the dispenser cover", "Remove the stuck card", "Close the cover", "Press {self_test}"),
            ),
            "zh_CN": (
                "有卡片卡在发卡机内。",
                ("打开发卡机盖板", "取出卡住的卡片", "关好盖板", "按“{self_test}”"),
            ),
        },
        "transport_blocked": {
            "en": (
                "A card is still in the dispenser's transport.",
                ("Press {clear_card}", "Take the card out", "Press {self_test}"),
            ),
            "zh_CN": ("发卡通道中仍有卡片。", ("按“{clear_card}”", "取走卡片", "按“{self_test}”")),
        },
        "stock_empty": {
            "en": (
                "The card dispenser has no blank cards left.",
                ("Open the dispenser and load blank cards", "Enter how many and press {replenish_cards}"),
            ),
            "zh_CN": ("发卡机已无空白卡。", ("打开发卡机装入空白卡", "输入张数后按“{replenish_cards}”")),
        },
        "reset_failed": {
            "en": (
                "The card dispenser refused to reset.",
                ("Switch the dispenser off and on", "Press {restart}", "Press {self_test}"),
            ),
            "zh_CN": ("发卡机无法复位。", ("关闭后重新打开发卡机电源", "按“{restart}”", "按“{self_test}”")),
        },
    },
    "pin_pad": {
        "tampered": {
            "en": (
                "The PIN pad's tamper switch is open: the pad may have been opened. Do not use it.",
                (
                    "Take the terminal out of service",
                    "Check the pad for foreign parts",
                    "Report it to security",
                ),
            ),
            "zh_CN": (
                "密码键盘防拆开关已断开，键盘可能被打开过，请勿使用。",
                ("将终端暂停服务", "检查键盘上是否有外加装置", "报告安保部门"),
            ),
        },
        "no_status": {
            "en": (
                "The PIN pad does not report its status.",
                ("Check the PIN pad cable", "Press {restart}", "Press {self_test}"),
            ),
            "zh_CN": ("密码键盘不返回状态。", ("检查密码键盘连接线", "按“{restart}”", "按“{self_test}”")),
        },
        "tdes_key_missing": {
            "en": (
                "The PIN pad has no TDES PIN key.",
                ("Ask the key officers to load the PIN keys", "Press {self_test}"),
            ),
            "zh_CN": ("密码键盘没有 TDES 密钥。", ("请密钥管理员灌装密钥", "按“{self_test}”")),
        },
        "aes_key_missing": {
            "en": (
                "The PIN pad has no AES PIN key.",
                ("Ask the key officers to load the PIN keys", "Press {self_test}"),
            ),
            "zh_CN": ("密码键盘没有 AES 密钥。", ("请密钥管理员灌装密钥", "按“{self_test}”")),
        },
    },
    "id_reader": {
        "sam_failed": {
            "en": (
                "The ID card reader's security module does not answer.",
                ("Switch the ID reader off and on", "Press {self_test}", "If it stays, call service"),
            ),
            "zh_CN": (
                "身份证阅读器安全模块无响应。",
                ("关闭后重新打开身份证阅读器电源", "按“{self_test}”", "仍未恢复请联系维修"),
            ),
        },
        "search_failed": {
            "en": (
                "The ID card reader cannot look for a card.",
                ("Remove anything lying on the reader", "Press {restart}", "Press {self_test}"),
            ),
            "zh_CN": ("身份证阅读器无法寻卡。", ("移开阅读器上的物品", "按“{restart}”", "按“{self_test}”")),
        },
    },
    "printer": {
        "cutter": {
            "en": (
                "The receipt printer's cutter is stuck.",
                (
                    "Open the printer cover",
                    "Remove the torn paper at the cutter",
                    "Close the cover",
                    "Press {self_test}",
                ),
            ),
            "zh_CN": (
                "凭条打印机切刀卡住。",
                ("打开打印机盖板", "清除切刀处的碎纸", "关好盖板", "按“{self_test}”"),
            ),
        },
        "mechanism": {
            "en": (
                "The receipt printer reports a mechanical fault.",
                (
                    "Open the cover and look for a paper jam",
                    "Switch the printer off and on",
                    "Press {self_test}",
                ),
            ),
            "zh_CN": (
                "凭条打印机报告机械故障。",
                ("打开盖板检查是否卡纸", "关闭后重新打开打印机电源", "按“{self_test}”"),
            ),
        },
        "cover_open": {
            "en": (
                "The printer cover is open.",
                ("Close the printer cover until it clicks", "Press {self_test}"),
            ),
            "zh_CN": ("打印机盖板未关。", ("关好打印机盖板直到听到咔哒声", "按“{self_test}”")),
        },
        "paper_out": {
            "en": (
                "The receipt printer is out of paper.",
                (
                    "Open the printer cover",
                    "Put in a new paper roll",
                    "Close the cover",
                    "Press {replenish_paper}",
                ),
            ),
            "zh_CN": (
                "凭条打印机缺纸。",
                ("打开打印机盖板", "装入新纸卷", "关好盖板", "按“{replenish_paper}”"),
            ),
        },
    },
    "camera": {
        "no_frames": {
            "en": (
                "The camera sends no picture.",
                ("Check the camera cable", "Make sure nothing covers the lens", "Press {restart}"),
            ),
            "zh_CN": ("摄像头没有画面。", ("检查摄像头连接线", "确认镜头未被遮挡", "按“{restart}”")),
        },
        "frame_size": {
            "en": (
                "The camera sends pictures of the wrong size.",
                ("Check the camera settings in Settings", "Press {restart}", "Press {self_test}"),
            ),
            "zh_CN": (
                "摄像头画面尺寸不对。",
                ("在“设置”中核对摄像头参数", "按“{restart}”", "按“{self_test}”"),
            ),
        },
    },
}


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    tables: dict[str, dict[str, str]] = {"en": {}, "zh_CN": {}}
    for device, faults in FAULTS.items():
        for fault, texts in faults.items():
            for lang, (sentence, steps) in texts.items():
                tables[lang][f"maint.fault.{device}.{fault}"] = sentence
                tables[lang][f"maint.fault.{device}.{fault}.steps"] = "\n".join(steps)
    return tables["en"], tables["zh_CN"]


EN, ZH_CN = _tables()
