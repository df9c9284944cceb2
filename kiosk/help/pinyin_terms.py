"""Banking words for the help keyboard's pinyin bar (the shared table covers names and addresses only).

Whole-word pinyin → phrases, most likely first, so a customer typing ``mima`` gets 密码 at once.
"""

from __future__ import annotations

from collections.abc import Mapping

HELP_PHRASES: Mapping[str, tuple[str, ...]] = {
    "yinhangka": ("银行卡",),
    "ka": ("卡",),
    "mima": ("密码",),
    "wangji": ("忘记",),
    "wangle": ("忘了",),
    "guashi": ("挂失",),
    "diule": ("丢了",),
    "diushi": ("丢失",),
    "tunka": ("吞卡",),
    "zhuanzhang": ("转账",),
    "kuahang": ("跨行",),
    "daozhang": ("到账",),
    "xiane": ("限额",),
    "shouxufei": ("手续费",),
    "nianfei": ("年费",),
    "kaihu": ("开户",),
    "xiaohu": ("销户",),
    "shenfenzheng": ("身份证",),
    "yue": ("余额",),
    "chaxun": ("查询",),
    "mingxi": ("明细",),
    "pingtiao": ("凭条",),
    "shualian": ("刷脸",),
    "renlian": ("人脸",),
    "shibie": ("识别",),
    "shijian": ("时间",),
    "yingye": ("营业",),
    "gongzuorenyuan": ("工作人员",),
    "rengong": ("人工",),
    "shoujihao": ("手机号",),
    "licai": ("理财",),
    "jijin": ("基金",),
    "zhapian": ("诈骗",),
    "yanzhengma": ("验证码",),
    "guoqi": ("过期",),
    "xianjin": ("现金",),
    "qukuan": ("取款",),
    "zenmeban": ("怎么办",),
    "zenme": ("怎么",),
    "duoshao": ("多少",),
    "laoren": ("老人",),
    "yuyin": ("语音",),
}
