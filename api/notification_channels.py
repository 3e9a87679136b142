"""The notification channels this deployment sends through, built from its settings: the in-app inbox
always, e-mail when an SMTP server is named, SMS and WeChat through the sandbox gateways when they are
on. A channel left out reaches nobody, and the relay tries the message's next channel."""

from __future__ import annotations

from api.settings import Settings
from kernel.vocabulary import NotificationChannel
from notifications.channels import ChannelSender, InAppSender
from notifications.email import EmailSender, SmtpSettings
from notifications.sms import SandboxSmsGateway, SmsGateway, SmsSender
from notifications.wechat import SandboxWechatGateway, WechatSender

__all__ = ["build_channels", "sms_gateways"]


def build_channels(settings: Settings) -> dict[NotificationChannel, ChannelSender]:
    channels: dict[NotificationChannel, ChannelSender] = {NotificationChannel.IN_APP: InAppSender()}
    if settings.smtp_host:
        channels[NotificationChannel.EMAIL] = EmailSender(
            SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=settings.smtp_tls,
                start_tls=settings.smtp_starttls,
                sender=settings.smtp_sender,
            )
        )
    if settings.sandbox_messaging_enabled:
        channels[NotificationChannel.SMS] = SmsSender(SandboxSmsGateway(settings.secret_key), sign_name=settings.sms_sign_name)
        channels[NotificationChannel.WECHAT] = WechatSender(SandboxWechatGateway())
    return channels


def sms_gateways(channels: dict[NotificationChannel, ChannelSender]) -> dict[str, SmsGateway]:
    """The SMS gateways whose receipt callbacks this deployment takes, by the name in their URL."""
    sender = channels.get(NotificationChannel.SMS)
    if not isinstance(sender, SmsSender):
        return {}
    return {sender.gateway.name: sender.gateway}
