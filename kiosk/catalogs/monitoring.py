"""Security monitoring page in maintenance mode."""

from __future__ import annotations

EN: dict[str, str] = {
    "maint.nav.security": "Security",
    "maint.security.alerts": "Active alerts",
    "maint.security.no_alerts": "No active alerts.",
    "maint.security.feed": "Live security events",
    "maint.security.no_events": "No security events since the kiosk started.",
    "maint.security.ack": "Acknowledge",
    "maint.security.acked": "Alert {alert} acknowledged.",
    "maint.security.alert_row": "[{severity}] {rule} · {subject} · {count}× · {time}",
    "maint.security.rule.wrong_pins_card": "Repeated wrong PINs on one card",
    "maint.security.rule.wrong_pins_kiosk": "Many wrong PINs at this kiosk",
    "maint.security.rule.liveness_failures": "Repeated face liveness failures",
    "maint.security.rule.card_captures": "Several cards captured",
    "maint.security.rule.device_faults": "A device keeps failing",
    "maint.security.rule.tamper": "Tamper alarm",
}

ZH_CN: dict[str, str] = {
    "maint.nav.security": "安全监控",
    "maint.security.alerts": "当前告警",
    "maint.security.no_alerts": "暂无告警。",
    "maint.security.feed": "实时安全事件",
    "maint.security.no_events": "终端启动以来暂无安全事件。",
    "maint.security.ack": "确认告警",
    "maint.security.acked": "已确认告警{alert}。",
    "maint.security.alert_row": "[{severity}] {rule} · {subject} · {count}次 · {time}",
    "maint.security.rule.wrong_pins_card": "同一张卡多次输错密码",
    "maint.security.rule.wrong_pins_kiosk": "本终端多次输错密码",
    "maint.security.rule.liveness_failures": "多次人脸活体检测失败",
    "maint.security.rule.card_captures": "多张卡被吞",
    "maint.security.rule.device_faults": "设备反复故障",
    "maint.security.rule.tamper": "防拆报警",
}
