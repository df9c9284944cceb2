"""A labelled set of paraphrased customer questions, and the measurement of the assistant on it.

The paraphrases were written separately from the FAQ, in the words a customer would use (not the FAQ's
own wording); each names the entry a good assistant answers with. ``OUT_OF_SCOPE`` questions have no
answer in the FAQ: the assistant should say it is not sure. ``evaluate`` reports top-1 accuracy (the best
match is the labelled entry), answered accuracy (confident and right), the share of out-of-scope questions
rejected, and the same figures for a bag-of-words baseline measured on the same questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk.help.faq import FAQ
from kiosk.help.retrieval import HelpAssistant, language_of, tokenize

PARAPHRASES: tuple[tuple[str, str], ...] = (
    # English
    ("somebody stole my wallet with my debit card in it", "card_lost"),
    ("how can I block a card I can't find", "card_lost"),
    ("the atm swallowed my card and did not give it back", "card_retained"),
    ("my card got stuck inside this terminal", "card_retained"),
    ("card says expired, need a new one", "card_expired"),
    ("the slot keeps rejecting my card", "card_not_read"),
    ("I want to get a new debit card", "card_new"),
    ("I can't remember my password", "pin_forgot"),
    ("my pin got blocked because I typed it wrong", "pin_locked"),
    ("I would like to set a different pin", "pin_change"),
    ("how do I stop people seeing my pin", "pin_safety"),
    ("a caller says he is from the bank and wants the code from my sms", "fraud"),
    ("how can I send money to my son", "transfer_how"),
    ("when will my interbank payment arrive", "transfer_other_bank"),
    ("I made a mistake and paid the wrong person", "transfer_wrong"),
    ("what is the maximum I can transfer at once", "transfer_limit"),
    ("where can I take out cash", "cash"),
    ("do you charge for sending money to another bank", "fees_transfer"),
    ("is there a yearly charge on the card", "fees_account"),
    ("I want to open a new account", "account_open"),
    ("which id do I have to bring to register", "account_documents"),
    ("can my 12 year old child have an account", "account_age"),
    ("I want to cancel my account", "account_close"),
    ("how much money is left in my account", "balance"),
    ("no receipt came out of the printer", "receipt"),
    ("I have a new mobile number", "phone_change"),
    ("I want to invest in funds, can you advise me", "wealth"),
    ("can I log in without my card using the camera", "face_login"),
    ("do you keep pictures of my face", "face_privacy"),
    ("the camera keeps failing to recognise me", "face_fail"),
    ("when is the branch open on weekends", "hours"),
    ("I need to speak to a real person", "staff"),
    ("switch the screen to chinese", "language"),
    ("my grandmother cannot see well, is there voice guidance", "accessibility"),
    # 简体中文
    ("我的卡找不到了，要怎么冻结", "card_lost"),
    ("卡被自助机吃掉了", "card_retained"),
    ("卡片有效期过了还能用吗", "card_expired"),
    ("插进去的卡一直读不出来", "card_not_read"),
    ("想办一张新的借记卡", "card_new"),
    ("银行卡密码想不起来了", "pin_forgot"),
    ("密码输错三次被锁住了", "pin_locked"),
    ("我想换一个新密码", "pin_change"),
    ("接到电话让我报验证码，是不是骗子", "fraud"),
    ("怎样给别人打钱", "transfer_how"),
    ("转到其他银行要多长时间才能到账", "transfer_other_bank"),
    ("钱转错人了能退回来吗", "transfer_wrong"),
    ("一次最多能转多少钱", "transfer_limit"),
    ("这台机器能取款吗", "cash"),
    ("跨行转账要收费吗", "fees_transfer"),
    ("这张卡每年要交年费吗", "fees_account"),
    ("我想开一个新账户", "account_open"),
    ("开户要带哪些材料", "account_documents"),
    ("学生几岁可以自己开户", "account_age"),
    ("我要注销我的账户", "account_close"),
    ("怎么查我卡里还有多少钱", "balance"),
    ("打印机没出小票", "receipt"),
    ("我换了手机号码", "phone_change"),
    ("想买基金，能给点投资建议吗", "wealth"),
    ("不带卡可以用人脸登录吗", "face_login"),
    ("你们会保存我的人脸照片吗", "face_privacy"),
    ("人脸识别一直不通过", "face_fail"),
    ("周六柜台几点开门", "hours"),
    ("我要找人工服务", "staff"),
    ("怎么把界面换成英文", "language"),
    ("老人看不清屏幕，有语音提示吗", "accessibility"),
)

OUT_OF_SCOPE: tuple[str, ...] = (
    "what is the weather like today",
    "can you recommend a restaurant nearby",
    "recommend a good restaurant",  # found by a test: "good" matched "good light" in face_fail
    "how do I bake a chocolate cake",
    "who won the football game yesterday",
    "where is the nearest train station",
    "今天天气怎么样",
    "附近有什么好吃的餐馆",
    "火车站怎么走",
    "昨天的足球比赛谁赢了",
    "帮我订一张电影票",
    # banking, but not in the FAQ: the assistant should not pretend
    "what is the interest rate on a mortgage",
    "can I buy gold here",
    "how do I apply for a credit card loan",
    "房贷利率是多少",
    "可以买黄金吗",
    "信用卡怎么还款",
)

# Written after the FAQ keywords were tuned on PARAPHRASES and never used for tuning: the honest figure.
HELD_OUT: tuple[tuple[str, str], ...] = (
    ("my bank card has vanished, what now", "card_lost"),
    ("the kiosk did not return my card", "card_retained"),
    ("is my old card still valid after the date on it", "card_expired"),
    ("I typed the wrong pin 3 times and now it's locked", "pin_locked"),
    ("what number should I never tell anyone", "pin_safety"),
    ("how long before money reaches another bank", "transfer_other_bank"),
    ("is there a limit per transaction", "transfer_limit"),
    ("how much does an interbank transfer cost", "fees_transfer"),
    ("do I need my passport to open an account", "account_documents"),
    ("what time does the counter close", "hours"),
    ("face recognition is not working for me", "face_fail"),
    ("can staff come and help me", "staff"),
    ("银行卡被偷了", "card_lost"),
    ("卡过期了怎么办", "card_expired"),
    ("密码忘了", "pin_forgot"),
    ("转账最多可以转多少", "transfer_limit"),
    ("这里能存现金吗", "cash"),
    ("开户需要身份证吗", "account_documents"),
    ("怎么查余额", "balance"),
    ("刷脸登录安全吗，会不会保存照片", "face_privacy"),
)


def _baseline_top1(question: str) -> str | None:
    """Word overlap with the question only (no weighting, no keywords): what BM25 must beat."""
    lang = language_of(question)
    query = set(tokenize(question, lang))
    best, best_overlap = None, 0
    for entry in FAQ:
        overlap = len(query & set(tokenize(entry.question[lang], lang)))
        if overlap > best_overlap:
            best, best_overlap = entry.id, overlap
    return best


def _top1(assistant: HelpAssistant, question: str) -> str:
    matches = assistant.search(question, 1)
    return matches[0].id if matches else ""


def evaluate(
    assistant: HelpAssistant | None = None,
    paraphrases: Sequence[tuple[str, str]] = PARAPHRASES,
    out_of_scope: Sequence[str] = OUT_OF_SCOPE,
    held_out_set: Sequence[tuple[str, str]] = HELD_OUT,
) -> dict[str, Any]:
    assistant = assistant or HelpAssistant()
    top1 = answered_right = baseline = 0
    misses: list[dict[str, str]] = []
    for question, expected in paraphrases:
        matches = assistant.search(question, 1)
        best = matches[0].id if matches else ""
        if best == expected:
            top1 += 1
            if matches[0].confidence >= assistant.threshold:
                answered_right += 1
        else:
            misses.append({"question": question, "expected": expected, "got": best})
        if _baseline_top1(question) == expected:
            baseline += 1
    rejected = sum(1 for question in out_of_scope if assistant.answer(question) is None)
    held_out = sum(1 for question, expected in held_out_set if _top1(assistant, question) == expected)
    total = len(paraphrases)
    return {
        "questions": total,
        "top1_accuracy": round(top1 / total, 4),
        "answered_correctly": round(answered_right / total, 4),
        "baseline_top1_accuracy": round(baseline / total, 4),
        "held_out_questions": len(held_out_set),
        "held_out_top1_accuracy": round(held_out / max(1, len(held_out_set)), 4),
        "held_out_baseline_top1_accuracy": round(
            sum(1 for q, e in held_out_set if _baseline_top1(q) == e) / max(1, len(held_out_set)), 4
        ),
        "out_of_scope": len(out_of_scope),
        "out_of_scope_rejected": round(rejected / max(1, len(out_of_scope)), 4),
        "threshold": assistant.threshold,
        "misses": misses,
    }
