"""Strings of the help assistant and the call-staff flow (the FAQ texts live in kiosk/help/faq.py)."""

from __future__ import annotations

EN: dict[str, str] = {
    "help.ask.title": "How can we help?",
    "help.ask.body": "Type your question or choose a topic.",
    "help.ask.placeholder": "For example: I forgot my PIN",
    "help.ask.button": "Ask",
    "help.topics": "Popular topics",
    "help.topic.cards": "Cards",
    "help.topic.pin": "PIN and safety",
    "help.topic.transfers": "Transfers and limits",
    "help.topic.fees": "Fees",
    "help.topic.accounts": "Accounts",
    "help.topic.face": "Face login",
    "help.topic.branch": "Hours and staff",
    "help.topic.title": "Questions about: {topic}",
    "help.call_staff": "Call staff",
    "help.error.empty": "Please type a question first.",
    "help.answer.related": "Related questions",
    "help.ask_again": "Ask another question",
    "help.not_sure.title": "I'm not sure I understood",
    "help.not_sure.body": "I can answer questions about your cards, PIN, transfers, fees, accounts and this "
    "branch. For anything else, I can call a member of staff for you.",
    "help.did_you_mean.title": "Did you mean…?",
    "help.did_you_mean.body": "Choose the question closest to yours, ask it another way, or call a member "
    "of staff.",
    "help.staff.calling": "Calling a member of staff…",
    "help.staff.title": "A member of staff is on the way",
    "help.staff.body": "Please stay at this kiosk; someone will be with you shortly. You can keep reading "
    "the help while you wait.",
    "help.staff.failed": "We could not reach the staff from this kiosk. Please go to the counter.",
    "help.staff.called": "Staff have been called",
}

ZH_CN: dict[str, str] = {
    "help.ask.title": "请问有什么可以帮您？",
    "help.ask.body": "请输入您的问题，或选择一个主题。",
    "help.ask.placeholder": "例如：忘记密码",
    "help.ask.button": "提问",
    "help.topics": "常见主题",
    "help.topic.cards": "银行卡",
    "help.topic.pin": "密码与安全",
    "help.topic.transfers": "转账与限额",
    "help.topic.fees": "费用",
    "help.topic.accounts": "账户",
    "help.topic.face": "刷脸登录",
    "help.topic.branch": "营业时间与工作人员",
    "help.topic.title": "关于“{topic}”的问题",
    "help.call_staff": "呼叫工作人员",
    "help.error.empty": "请先输入问题。",
    "help.answer.related": "相关问题",
    "help.ask_again": "问其他问题",
    "help.not_sure.title": "抱歉，我不太确定您的意思",
    "help.not_sure.body": "我可以解答银行卡、密码、转账、费用、账户和本网点的问题。"
    "其他问题可以为您呼叫工作人员。",
    "help.did_you_mean.title": "您是想问…？",
    "help.did_you_mean.body": "请选择最接近的问题，或换个说法再问，也可以呼叫工作人员。",
    "help.staff.calling": "正在呼叫工作人员…",
    "help.staff.title": "工作人员马上就到",
    "help.staff.body": "请在本机旁稍候，工作人员很快就会过来。等待期间您可以继续查看帮助。",
    "help.staff.failed": "本机无法联系到工作人员，请前往柜台。",
    "help.staff.called": "已呼叫工作人员",
}
