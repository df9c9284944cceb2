"""The bank's FAQ in English and Simplified Chinese: what the help assistant retrieves from.

Each entry has a topic (the suggested-topic buttons), the question as a customer would ask it, the answer,
and a few extra search words (synonyms customers use that the question does not contain). Answers name
the kiosk's real behaviour (limits and fees are the simulated build's defaults) and send the customer to the
counter where the kiosk cannot help. The phone number is the bank's service line printed on the kiosk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FAQ_VERSION = "FAQ-2025.2"
TOPICS: tuple[str, ...] = ("cards", "pin", "transfers", "fees", "accounts", "face", "branch")


@dataclass(frozen=True)
class FaqEntry:
    id: str
    topic: str
    question: Mapping[str, str]  # lang → text
    answer: Mapping[str, str]
    keywords: Mapping[str, str]


def _e(id: str, topic: str, q_en: str, a_en: str, k_en: str, q_zh: str, a_zh: str, k_zh: str) -> FaqEntry:
    return FaqEntry(
        id, topic, {"en": q_en, "zh_CN": q_zh}, {"en": a_en, "zh_CN": a_zh}, {"en": k_en, "zh_CN": k_zh}
    )


FAQ: tuple[FaqEntry, ...] = (
    # -- cards -----------------------------------------------------------------------------------------
    _e(
        "card_lost",
        "cards",
        "I lost my bank card. What should I do?",
        "Freeze the card at once: call our 24-hour service line 400-888-0000, or ask the staff at the "
        "counter. Then bring your ID card to the counter for a replacement card; your account and money "
        "stay safe.",
        "lost missing stolen steal wallet cannot find card freeze block report loss replacement",
        "我的银行卡丢了怎么办？",
        "请立即挂失：拨打24小时客服热线 400-888-0000，或请柜台工作人员帮您办理。"
        "之后携带本人身份证到柜台补办新卡，"
        "您的账户和资金不受影响。",
        "丢失 遗失 找不到 被偷 挂失 冻结 补卡 补办",
    ),
    _e(
        "card_retained",
        "cards",
        "The machine kept my card. How do I get it back?",
        "A card is kept when it is not taken in time or after three wrong PINs. Bring your ID card to the "
        "counter of this branch; after checking your identity the staff return the card to you.",
        "retained swallowed captured kept eaten stuck inside card back machine terminal took",
        "机器吞卡了，怎么取回？",
        "超时未取卡或连续三次密码错误时，机器会保留银行卡。请携带本人身份证到本网点柜台，核实身份后工作人员将把卡还给您。",
        "吞卡 吃卡 没收 卡被吞 卡在机器里 取回 领取",
    ),
    _e(
        "card_expired",
        "cards",
        "My card has expired. How do I renew it?",
        "An expired card cannot be used at the kiosk. Bring the old card and your ID card to the counter; "
        "the new card keeps the same account and PIN.",
        "expired expiry date renew renewal old card",
        "银行卡过期了怎么换卡？",
        "过期的卡无法在自助机上使用。请携带旧卡和身份证到柜台换卡，新卡的账户和密码保持不变。",
        "过期 到期 有效期 换卡 续期",
    ),
    _e(
        "card_not_read",
        "cards",
        "The kiosk cannot read my card.",
        "Insert the card chip first and face up, as the picture on the slot shows. If it still is not "
        "read, the chip or stripe may be damaged: the counter can replace the card.",
        "cannot read card rejected not accepted insert chip magnetic stripe damaged card not recognised "
        "error",
        "机器读不了我的卡怎么办？",
        "请按卡槽图示方向插卡（芯片朝前、正面朝上）。如仍无法识别，可能是芯片或磁条损坏，请到柜台换卡。",
        "读卡 识别 插卡 芯片 磁条 损坏 读不出 读卡失败 错误 提示错误",
    ),
    _e(
        "card_new",
        "cards",
        "How can I get a debit card?",
        "When you open an account at this kiosk a debit card is issued at once. If you already have an "
        "account, the counter can issue an additional card.",
        "apply new debit card issue get card",
        "怎么申请借记卡？",
        "在本机开户时会当场发放一张借记卡。已有账户的客户可以到柜台申请办卡。",
        "申请 办卡 新卡 借记卡 发卡",
    ),
    # -- PIN -------------------------------------------------------------------------------------------
    _e(
        "pin_forgot",
        "pin",
        "I forgot my PIN.",
        "For your security a PIN can only be reset at the counter. Bring your card and your ID card; the "
        "new PIN works at once.",
        "forgot forgotten pin password reset remember",
        "忘记密码了怎么办？",
        "为保障安全，密码只能在柜台重置。请携带银行卡和本人身份证办理，新密码立即生效。",
        "忘记 忘了 密码 重置 想不起",
    ),
    _e(
        "pin_locked",
        "pin",
        "My PIN is locked after wrong attempts.",
        "After three wrong PINs the card is kept and the PIN is locked. Bring your ID card to the counter "
        "to unlock it and collect your card.",
        "locked blocked wrong pin three times attempts unlock",
        "密码输错被锁了怎么办？",
        "连续三次输错密码后，银行卡会被保留并锁定密码。请携带身份证到柜台解锁并领回银行卡。",
        "锁定 输错 三次 解锁 错误",
    ),
    _e(
        "pin_change",
        "pin",
        "How do I change my PIN?",
        "Insert your card, enter your PIN and choose Change PIN: enter the current PIN, then the new one "
        "(4 to 6 digits) twice. It needs the card, so it is not offered after a face login. Avoid your "
        "birthday, one digit repeated or a run such as 1234: those are refused.",
        "change pin new different password modify set another",
        "怎么修改密码？",
        "插卡并输入密码后选择“修改密码”：先输入当前密码，再输入两次新密码（4至6位）。"
        "此业务需要银行卡，刷脸登录后不提供。请勿使用生日、重复数字或1234这类连续数字，这类密码会被拒绝。",
        "修改 更改 改密码 换密码 新密码",
    ),
    _e(
        "pin_safety",
        "pin",
        "How do I keep my PIN safe?",
        "Cover the PIN pad with your hand, never tell anyone your PIN — bank staff will never ask for it — "
        "and do not write it on the card.",
        "safe secure cover keypad protect pin privacy seeing people watching",
        "怎样保护密码安全？",
        "输入密码时请用手遮挡键盘，切勿把密码告诉任何人（银行工作人员绝不会询问您的密码），也不要把密码写在卡上。",
        "安全 遮挡 保护 泄露 偷看 防止 被人看到",
    ),
    _e(
        "fraud",
        "pin",
        "Someone called asking for my card number and verification code.",
        "It is a scam. The bank never asks for your PIN or SMS verification code by phone or message. "
        "Hang up, do not transfer money, and call 400-888-0000 or tell our staff.",
        "scam fraud phone call sms code verification suspicious police wechat qq message stranger",
        "有人打电话要我的卡号和验证码，怎么办？",
        "这是诈骗。银行绝不会通过电话或短信索要密码或验证码。"
        "请立即挂断，不要转账，并拨打 400-888-0000 或告知工作人员。",
        "诈骗 骗子 电话 短信 验证码 可疑 微信 陌生人 自称",
    ),
    _e(
        "phone_lost",
        "pin",
        "I lost my mobile phone. Is my account safe?",
        "Call our 24-hour service line 400-888-0000 from another phone to stop security messages and face "
        "login until you have a new SIM, and ask your phone company to block the SIM. Then bring your ID "
        "card to the counter to confirm or change your phone number.",
        "lost stolen phone mobile sim missing safe account security messages",
        "手机丢了，账户安全吗？",
        "请用其他电话拨打24小时客服热线 400-888-0000，暂停安全短信和刷脸登录，"
        "并请运营商挂失手机卡。之后携带身份证到柜台确认或更换预留手机号。",
        "手机丢了 手机丢失 手机被偷 手机卡 挂失 安全",
    ),
    # -- transfers -------------------------------------------------------------------------------------
    _e(
        "transfer_how",
        "transfers",
        "How do I transfer money?",
        "Insert your card or log in with your face, choose Transfer, then your own account, another "
        "customer of this bank or another bank. Check the confirmation screen before you confirm.",
        "transfer send money pay someone family friend remit",
        "怎么转账？",
        "插卡或刷脸登录后选择“转账”，再选择本人账户、本行其他客户或他行账户。确认前请仔细核对确认页面上的信息。",
        "转账 汇款 打钱 转钱 付款 给别人 朋友",
    ),
    _e(
        "transfer_other_bank",
        "transfers",
        "How long does a transfer to another bank take?",
        "Transfers to other banks are sent through clearing and normally arrive within two hours on "
        "working days; late in the day they arrive the next working day.",
        "other bank interbank arrive how long time clearing",
        "跨行转账多久到账？",
        "跨行转账经清算系统处理，工作日一般两小时内到账；较晚提交的转账在下一个工作日到账。",
        "跨行 他行 到账 多久 时间 清算",
    ),
    _e(
        "transfer_wrong",
        "transfers",
        "I sent money to the wrong account.",
        "Go to the counter with your receipt or reference number as soon as possible. The bank contacts the "
        "receiving bank, but can only return the money with the payee's agreement.",
        "wrong account mistake recall return money refund error",
        "转错账了怎么办？",
        "请尽快携带凭条或交易参考号到柜台办理。银行会联系收款行，但须经收款人同意才能退回款项。",
        "转错 错账 退回 追回 误转",
    ),
    _e(
        "transfer_limit",
        "transfers",
        "What is the transfer limit?",
        "At this kiosk one transfer can be up to ¥50,000.00. Transfers above ¥5,000.00 ask for your PIN "
        "again. Higher amounts are handled at the counter.",
        "limit maximum amount daily how much transfer cap",
        "转账限额是多少？",
        "本机单笔转账最高 50,000.00 元，超过 5,000.00 元需再次输入密码。更大金额请到柜台办理。",
        "限额 额度 最多 上限 最高 每天 一次 多少钱",
    ),
    _e(
        "cash",
        "transfers",
        "Can I withdraw cash here?",
        "This kiosk does not handle cash. Please use the ATM in the branch lobby for withdrawals and "
        "deposits.",
        "cash withdraw withdrawal take out deposit atm money notes",
        "这里可以取现金吗？",
        "本机不办理现金业务。取款和存款请使用网点大厅的ATM。",
        "取钱 取款 现金 存钱 存款",
    ),
    # -- fees ------------------------------------------------------------------------------------------
    _e(
        "fees_transfer",
        "fees",
        "Are there fees for transfers?",
        "Transfers between your own accounts and to customers of this bank are free. A transfer to another "
        "bank costs ¥2.00, shown on the confirmation screen before you confirm.",
        "fee fees charge cost price commission transfer other bank",
        "转账收手续费吗？",
        "本人账户之间及转给本行客户免费。转到他行每笔收取 2.00 元手续费，确认前会在确认页面显示。",
        "手续费 收费 费用 要钱 跨行收费",
    ),
    _e(
        "fees_account",
        "fees",
        "Is there an annual fee for my account or card?",
        "Debit cards opened at this kiosk have no annual fee and no small-balance fee.",
        "annual fee yearly charge maintenance small balance",
        "账户或银行卡有年费吗？",
        "在本机开立的借记卡不收年费，也不收小额账户管理费。",
        "年费 管理费 小额 账户费",
    ),
    # -- accounts --------------------------------------------------------------------------------------
    _e(
        "account_open",
        "accounts",
        "How do I open an account here?",
        "Choose Open an account, place your ID card on the reader, look at the camera for the face check, "
        "fill in your phone and address, set a PIN and take your new card. It takes about five minutes.",
        "open new account register",
        "怎么在这里开户？",
        "选择“开户”，将身份证放在读卡区，面对摄像头完成人脸核验，填写手机号和地址，设置密码后取走新卡，全程约五分钟。",
        "开户 开账户 办账户 新账户",
    ),
    _e(
        "account_documents",
        "accounts",
        "What documents do I need to open an account?",
        "Your own valid second-generation resident ID card. Passports and other documents are handled at "
        "the counter.",
        "documents id card identity passport papers need bring which",
        "开户需要带什么证件？",
        "需要本人有效的二代居民身份证。护照等其他证件请到柜台办理。",
        "证件 身份证 护照 材料 带什么",
    ),
    _e(
        "account_age",
        "accounts",
        "How old must I be to open an account?",
        "At the kiosk you must be 16 or older. Younger customers open an account at the counter with a "
        "parent or guardian.",
        "age old minimum young child minor student son daughter",
        "多大年龄可以开户？",
        "在自助机开户须年满16周岁。未满16周岁的客户请由父母或监护人陪同到柜台办理。",
        "年龄 几岁 未成年 学生 孩子 儿子 女儿",
    ),
    _e(
        "account_close",
        "accounts",
        "How do I close my account?",
        "Accounts are closed at the counter. Bring your card and ID card; move the balance out first or "
        "take it in cash.",
        "close cancel account terminate",
        "怎么销户？",
        "销户需到柜台办理。请携带银行卡和身份证，并先将余额转出或以现金支取。",
        "销户 注销 关闭账户 取消",
    ),
    _e(
        "balance",
        "accounts",
        "How do I check my balance or statement?",
        "Insert your card or log in with your face, then choose Balance, Mini-statement (last ten) or "
        "History to search by date. You can print a receipt.",
        "balance check statement history transactions how much money left remaining",
        "怎么查询余额和明细？",
        "插卡或刷脸登录后选择“余额查询”、“迷你对账单”（最近十笔）或“交易明细”按日期查询，可打印凭条。",
        "余额 查询 明细 对账单 流水 还有多少钱",
    ),
    _e(
        "receipt",
        "accounts",
        "The kiosk did not print my receipt.",
        "If the printer is out of paper the kiosk says so and lets you carry on without a receipt; the "
        "transaction itself is complete. Ask the staff for a printed copy.",
        "receipt print printer paper slip no receipt",
        "机器没有打印凭条怎么办？",
        "打印机缺纸时机器会提示，并允许您在没有凭条的情况下继续，交易本身已完成。可请工作人员为您补打凭条。",
        "凭条 打印 小票 缺纸 回单",
    ),
    _e(
        "phone_change",
        "accounts",
        "How do I change my mobile phone number?",
        "Bring your ID card and card to the counter to change the phone number on your account; it is "
        "used for face login and for security messages.",
        "change phone mobile number update contact new number different number",
        "怎么修改预留手机号？",
        "请携带身份证和银行卡到柜台修改账户预留手机号，该号码用于刷脸登录和安全短信。",
        "手机号 电话 预留 更换 修改 换号 新号码",
    ),
    _e(
        "statement",
        "accounts",
        "How do I get a statement of my account?",
        "Log in and choose Enquiries: Mini statement shows your last 10 transactions, History shows any "
        "period of up to a year, and both can be printed here. For a stamped statement (for a visa or a "
        "loan), bring your ID card to the counter.",
        "statement transactions transaction history record list print bank statement stamped",
        "怎么打印账户流水或对账单？",
        "登录后选择“查询”：“最近交易”显示最近10笔交易，“交易明细”可查询一年以内任意时段，均可在本机打印。"
        "需要盖章的流水（办签证、贷款等），请携带身份证到柜台办理。",
        "流水 对账单 明细 交易记录 账单 打印流水 银行流水 盖章",
    ),
    _e(
        "name_change",
        "accounts",
        "I changed my name. How do I update my account?",
        "Bring your new ID card and the document of the change (for example the marriage certificate or "
        "the police record of the name change) to the counter; the staff update your account and issue a "
        "card in the new name. It cannot be done at the kiosk.",
        "name changed surname married marriage update new name",
        "我改了名字，账户怎么更新？",
        "请携带新身份证及更名证明（如公安机关出具的更名证明）到柜台，工作人员将为您更新账户信息并换发新卡。"
        "此业务无法在自助机上办理。",
        "改名 改名字 更名 姓名 名字 变更",
    ),
    _e(
        "bereavement",
        "accounts",
        "A relative has died. What happens to their account?",
        "We are sorry for your loss. Please bring the death certificate, your ID card and a document "
        "showing you are the heir or executor to the counter. The staff freeze the account against misuse "
        "and explain how its money is paid out. This cannot be done at the kiosk.",
        "died dead death passed away deceased relative family estate inherit heir executor",
        "亲人去世了，他的账户怎么办？",
        "请节哀。请携带死亡证明、您本人的身份证及继承人身份证明（如公证书）到柜台，"
        "工作人员会先冻结账户以防被冒用，并说明存款的继承和支取手续。此业务无法在自助机上办理。",
        "去世 过世 身故 死亡 遗产 继承 家人 亲属",
    ),
    _e(
        "wealth",
        "accounts",
        "Can I get investment advice here?",
        "Yes: log in and choose Wealth advice. A short questionnaire gives your risk level and a suggested "
        "mix of deposits and funds with the range of outcomes. Products above your level are not offered.",
        "investment advice wealth fund invest risk assessment financial products",
        "这里可以做理财咨询吗？",
        "可以：登录后选择“理财建议”。完成简短问卷即可得到您的风险等级、存款与基金的建议配置及收益区间。高于您风险等级的产品不会推荐。",
        "理财 投资 基金 风险评估 建议",
    ),
    _e(
        "loan",
        "accounts",
        "Can I apply for a loan here?",
        "Log in and choose Personal loan: check what we can offer. Enter the amount (¥1,000 to ¥200,000), "
        "the term (6 to 60 months), your monthly income and repayments and the purpose; you see the "
        "indicative rate and monthly repayment, and an answer in minutes. Checking does not affect your "
        "credit record and nothing is lent at the kiosk: you sign at the branch. Mortgages and larger "
        "loans are handled at the counter.",
        "loan borrow borrowing credit personal loan car loan pre-qualification qualify apply rate interest "
        "repayment instalment mortgage purpose car education university study home renovation kitchen travel "
        "medical business",
        "这里可以申请贷款吗？",
        "登录后选择“个人贷款：预审额度”，填写贷款金额（1,000至200,000元）、还款期限（6至60个月）、"
        "月收入、每月已有还款和贷款用途，即可看到参考利率和每月还款额，几分钟出结果。"
        "预审不影响您的信用记录，本机不放款，需到网点签约。房贷和更大金额的贷款请到柜台办理。",
        "贷款 借钱 借款 个人贷款 车贷 预审 额度 利率 利息 还款 房贷 用途 买车 教育 学费 装修 旅游 医疗 经营",
    ),
    _e(
        "bill_payment",
        "accounts",
        "Can I pay bills or top up my phone here?",
        "Yes: log in and choose Pay bills / top up. Pick electricity, water, gas or a mobile top-up, enter "
        "the customer number printed on your bill (or the mobile number), check the amount and confirm. "
        "After paying you can choose Pay this every month; My scheduled payments shows or cancels them.",
        "bill bills pay electricity electric water gas utility top up topup credit mobile phone monthly "
        "scheduled automatic direct debit",
        "这里可以缴费或充话费吗？",
        "可以：登录后选择“生活缴费 / 话费充值”，选择电费、水费、燃气费或话费充值，"
        "输入账单上的户号（或手机号），核对金额后确认。缴费后可选择“设为每月缴费”，在“我的定期缴费”中查看或取消。",
        "缴费 交费 电费 水费 燃气费 煤气费 话费 充值 充话费 生活缴费 自动缴费 定期缴费",
    ),
    # -- face ------------------------------------------------------------------------------------------
    _e(
        "face_login",
        "face",
        "How does face login work?",
        "Choose Log in with face, enter your phone number or ID number, then look at the camera and follow "
        "the prompts (blink or turn your head). No card is needed.",
        "face login recognition camera without card",
        "刷脸登录怎么用？",
        "选择“刷脸登录”，输入手机号或身份证号，然后面对摄像头按提示眨眼或转头即可，无需银行卡。",
        "刷脸 人脸 识别 摄像头 不带卡",
    ),
    _e(
        "face_privacy",
        "face",
        "Do you store a photo of my face?",
        "No photo is kept. Only an encrypted face template made when you opened your account is stored, "
        "and it is used only to check that it is you.",
        "privacy photo image stored data biometric template keep scan",
        "会保存我的人脸照片吗？",
        "不会保存照片。仅保存开户时生成的加密人脸特征模板，且只用于核实您的身份。",
        "隐私 照片 保存 人脸数据 信息 扫脸 扫描",
    ),
    _e(
        "face_fail",
        "face",
        "The face check does not recognise me.",
        "Take off sunglasses, hat or mask, stand an arm's length away in good light and look straight at "
        "the camera. After several failures please use your card or ask our staff.",
        "face not recognised failed match camera fail",
        "刷脸总是识别失败怎么办？",
        "请摘下墨镜、帽子或口罩，在光线充足处站在约一臂距离外正视摄像头。多次失败请改用银行卡或咨询工作人员。",
        "识别失败 认不出 不通过 刷不了",
    ),
    # -- branch ----------------------------------------------------------------------------------------
    _e(
        "hours",
        "branch",
        "What are the opening hours?",
        "This kiosk is open 24 hours a day, weekends included. The counter is open Monday to Friday "
        "9:00–17:00 and Saturday 9:00–12:00; it is closed on Sunday and on public holidays.",
        "opening hours open close closes weekend holiday counter time when",
        "营业时间是几点？",
        "本自助机24小时服务，周末照常。"
        "柜台营业时间为周一至周五 9:00–17:00，周六 9:00–12:00，周日及法定节假日休息。",
        "营业时间 几点 开门 关门 周末 节假日 柜台",
    ),
    _e(
        "staff",
        "branch",
        "Can I talk to a member of staff?",
        "Yes. Touch Call staff on the help screen and a member of staff will come to this kiosk.",
        "staff person human help assistant employee talk someone",
        "可以找工作人员吗？",
        "可以。在帮助页面点击“呼叫工作人员”，工作人员会来到本机为您服务。",
        "工作人员 人工 客服 找人 帮忙 人工服务",
    ),
    _e(
        "complaint",
        "branch",
        "How do I make a complaint?",
        "Tell the staff at the counter or ask for the branch manager, or call our service line "
        "400-888-0000. You are given a reference number and an answer within 15 working days.",
        "complaint complain unhappy bad service problem feedback manager",
        "怎么投诉？",
        "可以向柜台工作人员或网点负责人反映，也可以拨打客服热线 400-888-0000。"
        "我们会给您一个受理编号，并在15个工作日内答复。",
        "投诉 意见 不满 服务差 反映 建议 经理",
    ),
    _e(
        "language",
        "branch",
        "How do I change the language?",
        "Touch Finish to go back to the start, then choose English or 简体中文 on the language screen.",
        "language english chinese switch change",
        "怎么切换语言？",
        "点击“结束”返回首页，然后在语言选择页面选择“English”或“简体中文”。",
        "语言 英文 中文 切换",
    ),
    _e(
        "accessibility",
        "branch",
        "Is there help for elderly or visually impaired customers?",
        "Yes. Touch the accessibility button on the language screen: voice guidance through headphones, "
        "keypad-only navigation, larger text with more time, or assistance from our staff.",
        "elderly old blind visually impaired voice speech large text headphones accessibility screen",
        "有没有适合老年人或视障人士的服务？",
        "有。在语言选择页面点击“无障碍”按钮，可选择耳机语音引导、按键导航、大字体慢速模式或由工作人员协助办理。",
        "老年人 老人 视障 盲人 语音 大字 无障碍 耳机 屏幕 提示",
    ),
)

ENTRIES: Mapping[str, FaqEntry] = {entry.id: entry for entry in FAQ}
