"""Strings of the accessibility modes and the spoken guidance (English and Simplified Chinese)."""

from __future__ import annotations

EN: dict[str, str] = {
    "a11y.button": "Accessibility",
    "a11y.title": "Accessibility",
    "a11y.body": "Choose what helps you. You can change this at any time from the language screen.",
    "a11y.speech": "Voice guidance",
    "a11y.speech.hint": "Every screen is read aloud (headphones recommended)",
    "a11y.keypad": "Keypad only",
    "a11y.keypad.hint": "Move with F1 / F2 on the PIN pad, ENTER to choose",
    "a11y.elderly": "Larger text, more time",
    "a11y.elderly.hint": "Text 30% larger and twice the time on every step",
    "a11y.assisted": "Assisted by staff",
    "a11y.assisted.hint": "A member of staff guides you; longer time limits",
    "a11y.on": "On",
    "a11y.off": "Off",
    "a11y.done": "Done",
    "a11y.assisted.banner": "Assisted by staff",
    "a11y.assisted.end": "End assistance",
    "a11y.focus": "{label}. Button {index} of {count}.",
    "a11y.keypad.instructions": "Use F1 for the previous button, F2 for the next, F3 to repeat, and ENTER "
    "to choose.",
    "a11y.speech.keys": "On the PIN pad: F3 repeats, F4 stops the voice, F5 is quieter, F6 is louder.",
    "a11y.state.on": "{mode}: on",
    "a11y.state.off": "{mode}: off",
}

ZH_CN: dict[str, str] = {
    "a11y.button": "无障碍",
    "a11y.title": "无障碍服务",
    "a11y.body": "请选择对您有帮助的功能。您可以随时在语言选择页面更改。",
    "a11y.speech": "语音引导",
    "a11y.speech.hint": "朗读每个页面（建议使用耳机）",
    "a11y.keypad": "仅用按键操作",
    "a11y.keypad.hint": "用密码键盘的 F1 / F2 移动，确认键选择",
    "a11y.elderly": "大字体、更多时间",
    "a11y.elderly.hint": "文字放大30%，每一步的时间加倍",
    "a11y.assisted": "工作人员协助",
    "a11y.assisted.hint": "由工作人员引导操作，时间限制更长",
    "a11y.on": "开",
    "a11y.off": "关",
    "a11y.done": "完成",
    "a11y.assisted.banner": "工作人员协助中",
    "a11y.assisted.end": "结束协助",
    "a11y.focus": "{label}。第 {index} 个按钮，共 {count} 个。",
    "a11y.keypad.instructions": "按 F1 移到上一个按钮，F2 移到下一个，F3 重复朗读，按确认键选择。",
    "a11y.speech.keys": "密码键盘上：F3 重复朗读，F4 停止朗读，F5 调小音量，F6 调大音量。",
    "a11y.state.on": "{mode}：开",
    "a11y.state.off": "{mode}：关",
}
