"""The built-in texts of every kind of message, zh-CN first and English, used when a project has saved
no template of its own for the kind, channel and locale (they carry template version 0).

One text serves every channel: the SMS and WeChat providers get its fields as template parameters (a
real provider's approved template is named by the project's own SMS or WeChat template). Each text may
use the kind's required payload fields and `project` (the project's name); optional fields are tested
with `is defined`. Pure: standard library, the kernel and the other pure notification modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kernel.vocabulary import Locale
from notifications.kinds import MessageKind
from notifications.rendering import TemplateText

__all__ = ["DEFAULT_TEMPLATES", "default_template"]

_ZH, _EN = Locale.ZH_CN, Locale.EN

DEFAULT_TEMPLATES: Mapping[tuple[MessageKind, Locale], TemplateText] = MappingProxyType(
    {
        (MessageKind.SECURITY_ALERT, _ZH): TemplateText(
            subject="【{{ project }}】账号安全提醒",
            body="您的账号刚刚{{ event }}。如非本人操作，请立即联系物业服务中心。",
        ),
        (MessageKind.SECURITY_ALERT, _EN): TemplateText(
            subject="[{{ project }}] Account security notice",
            body="Your account just had this change: {{ event }}. If this was not you, contact the property office now.",
        ),
        (MessageKind.PAYMENT_CONFIRMATION, _ZH): TemplateText(
            subject="【{{ project }}】缴费成功",
            body="您已成功缴费{{ amount | yuan }}，收据编号{{ receipt_number }}。感谢您的支持！",
        ),
        (MessageKind.PAYMENT_CONFIRMATION, _EN): TemplateText(
            subject="[{{ project }}] Payment received",
            body="We received your payment of {{ amount | yuan }}, receipt {{ receipt_number }}. Thank you!",
        ),
        (MessageKind.BILL_REMINDER, _ZH): TemplateText(
            subject="【{{ project }}】缴费提醒",
            body=(
                "尊敬的业主{% if unit is defined %}（{{ unit }}）{% endif %}：您有物业费{{ amount_due | yuan }}"
                "将于{{ due_date | day }}到期，请及时缴纳。如已缴纳，请忽略本消息。"
            ),
        ),
        (MessageKind.BILL_REMINDER, _EN): TemplateText(
            subject="[{{ project }}] Payment reminder",
            body=(
                "Dear owner{% if unit is defined %} ({{ unit }}){% endif %}: {{ amount_due | yuan }} is due on "
                "{{ due_date | day }}. If you have already paid, please ignore this message."
            ),
        ),
        (MessageKind.OVERDUE_NOTICE, _ZH): TemplateText(
            subject="【{{ project }}】欠费通知",
            body=(
                "尊敬的业主{% if unit is defined %}（{{ unit }}）{% endif %}：您的物业费{{ amount_due | yuan }}"
                "已于{{ due_date | day }}到期，已逾期{{ days_overdue }}天，截至今日滞纳金{{ late_fee | yuan }}。"
                "请尽快缴纳，如有疑问请联系物业服务中心。"
            ),
        ),
        (MessageKind.OVERDUE_NOTICE, _EN): TemplateText(
            subject="[{{ project }}] Overdue notice",
            body=(
                "Dear owner{% if unit is defined %} ({{ unit }}){% endif %}: {{ amount_due | yuan }} was due on "
                "{{ due_date | day }} and is {{ days_overdue }} days overdue; the late fee as of today is "
                "{{ late_fee | yuan }}. Please pay soon, or contact the property office with any question."
            ),
        ),
        (MessageKind.FINAL_NOTICE, _ZH): TemplateText(
            subject="【{{ project }}】催缴通知",
            body=(
                "尊敬的业主{% if unit is defined %}（{{ unit }}）{% endif %}：您的物业费{{ amount_due | yuan }}"
                "自{{ due_date | day }}到期至今已逾期{{ days_overdue }}天，截至今日滞纳金{{ late_fee | yuan }}，"
                "滞纳金按日累计。请于收到本通知后尽快缴清；如有困难或异议，请联系物业服务中心协商。"
            ),
        ),
        (MessageKind.FINAL_NOTICE, _EN): TemplateText(
            subject="[{{ project }}] Final notice",
            body=(
                "Dear owner{% if unit is defined %} ({{ unit }}){% endif %}: {{ amount_due | yuan }} fell due on "
                "{{ due_date | day }} and is now {{ days_overdue }} days overdue; the late fee as of today is "
                "{{ late_fee | yuan }} and grows every day. Please pay it now, or contact the property office to "
                "agree how."
            ),
        ),
        (MessageKind.DUNNING_FOLLOW_UP, _ZH): TemplateText(
            subject="【{{ project }}】催缴回访：{{ unit }}",
            body=(
                "请电话回访业主{{ owner }}（{{ unit }}）：欠费{{ amount_due | yuan }}，已逾期{{ days_overdue }}天。"
                "回访后请在催缴工作台记录结果。"
            ),
        ),
        (MessageKind.DUNNING_FOLLOW_UP, _EN): TemplateText(
            subject="[{{ project }}] Dunning follow-up: {{ unit }}",
            body=(
                "Please phone {{ owner }} ({{ unit }}): {{ amount_due | yuan }} owed, {{ days_overdue }} days overdue. "
                "Record the call in the dunning work queue afterwards."
            ),
        ),
        (MessageKind.ANNOUNCEMENT, _ZH): TemplateText(
            subject="【{{ project }}】{{ title }}",
            body="{{ title }}{% if summary is defined %}：{{ summary }}{% endif %}",
        ),
        (MessageKind.ANNOUNCEMENT, _EN): TemplateText(
            subject="[{{ project }}] {{ title }}",
            body="{{ title }}{% if summary is defined %}: {{ summary }}{% endif %}",
        ),
        (MessageKind.ANNOUNCEMENT_REMINDER, _ZH): TemplateText(
            subject="【{{ project }}】请查阅公告：{{ title }}",
            body="您有一条未读公告「{{ title }}」，请及时查阅。",
        ),
        (MessageKind.ANNOUNCEMENT_REMINDER, _EN): TemplateText(
            subject="[{{ project }}] Please read: {{ title }}",
            body="You have not read the announcement “{{ title }}” yet.",
        ),
        (MessageKind.TICKET_ASSIGNED, _ZH): TemplateText(
            subject="【{{ project }}】新工单 {{ ticket }}",
            body=(
                "您有新的维修工单{{ ticket }}{% if location is defined %}，地点：{{ location }}{% endif %}"
                "{% if description is defined %}，内容：{{ description }}{% endif %}。请尽快接单。"
            ),
        ),
        (MessageKind.TICKET_ASSIGNED, _EN): TemplateText(
            subject="[{{ project }}] New ticket {{ ticket }}",
            body=(
                "You have a new repair ticket {{ ticket }}{% if location is defined %} at {{ location }}{% endif %}"
                "{% if description is defined %}: {{ description }}{% endif %}. Please accept it soon."
            ),
        ),
        (MessageKind.INVOICE_ISSUED, _ZH): TemplateText(
            subject="【{{ project }}】{% if red is defined and red %}红字{% endif %}电子发票 {{ number }}",
            body=(
                "您的{% if red is defined and red %}红字{% endif %}电子发票已开具，发票号码{{ number }}，"
                "价税合计{{ amount | yuan }}。{% if pdf_link is defined %}下载PDF：{{ pdf_link }}"
                "{% if xml_link is defined %} ；XML：{{ xml_link }}{% endif %}{% else %}请登录业主端查看和下载。{% endif %}"
            ),
        ),
        (MessageKind.INVOICE_ISSUED, _EN): TemplateText(
            subject="[{{ project }}] {% if red is defined and red %}Red-letter e-invoice{% else %}E-invoice{% endif %} {{ number }}",
            body=(
                "Your {% if red is defined and red %}red-letter {% endif %}e-invoice {{ number }} was issued, total "
                "{{ amount | yuan }}. {% if pdf_link is defined %}PDF: {{ pdf_link }}{% if xml_link is defined %} ; XML: "
                "{{ xml_link }}{% endif %}{% else %}Sign in to the owner app to download it.{% endif %}"
            ),
        ),
    }
)


def default_template(kind: MessageKind, locale: Locale) -> TemplateText:
    """The built-in text of `kind` in `locale` (zh-CN when the locale has none); the same on every channel."""
    return DEFAULT_TEMPLATES.get((kind, locale)) or DEFAULT_TEMPLATES[(kind, Locale.ZH_CN)]
