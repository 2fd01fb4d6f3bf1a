"""Telegram Bot API: ``sendMessage`` over httpx.

The bot token is part of the URL path (``{base_url}/bot<token>/sendMessage``), so neither a URL
nor an httpx exception text ever reaches a message or a log line: errors are built from the
status code and Telegram's own ``description``. The base URL is configurable (tests use a local
server that records requests).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

import httpx

from btcn.exchange.retry import RetryPolicy
from btcn.monitoring.errors import TelegramError
from btcn.monitoring.retry import send_with_retry, service_policy

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4096  # Telegram's limit for one message's text


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 2] + " …"


def _check(response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code == 200 and body.get("ok") is True:
        return
    description = " ".join(str(body.get("description", "")).split())[:200] or "no description"
    status = response.status_code
    retryable = status == 429 or status >= 500
    hint = None
    if status in (401, 404):
        hint = "check the bot token (secret named by [telegram] token_secret)"
    elif status in (400, 403):
        hint = "check [telegram] chat_id, and that the bot was added to that chat"
    raise TelegramError(
        f"telegram sendMessage failed: HTTP {status}: {description}",
        hint=hint,
        retryable=retryable,
    )


class TelegramNotifier:
    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        token: str,
        chat_id: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not chat_id:
            raise TelegramError("telegram: [telegram] chat_id is empty")
        self._client = client
        self._url = f"{base_url.rstrip('/')}/bot{token}/sendMessage"
        self.chat_id = chat_id
        self.policy = policy or service_policy(retries=2)
        self._sleep = sleep

    def __repr__(self) -> str:  # never show the URL: it holds the token
        return f"TelegramNotifier(chat_id={self.chat_id!r})"

    def send(self, text: str, *, html_mode: bool = True) -> int:
        """Send one message; return Telegram's ``message_id``. ``text`` is HTML when html_mode."""
        payload: dict[str, object] = {
            "chat_id": self.chat_id,
            "text": truncate(text),
            "disable_web_page_preview": True,
        }
        if html_mode:
            payload["parse_mode"] = "HTML"

        def post() -> httpx.Response:
            return self._client.post(self._url, json=payload)

        kwargs = {"sleep": self._sleep} if self._sleep is not None else {}
        response = send_with_retry(
            post, _check, policy=self.policy, service="telegram", error=TelegramError, **kwargs
        )  # type: ignore[arg-type]
        message_id = int(response.json().get("result", {}).get("message_id", 0))
        log.debug("telegram: sent message %d to chat %s", message_id, self.chat_id)
        return message_id


def esc(text: object) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(str(text), quote=False)


def notifier_from_settings(settings: object, client: httpx.Client) -> TelegramNotifier:
    """A notifier from ``[telegram]`` plus the token from :func:`get_secret`."""
    from btcn.errors import ConfigError
    from btcn.runtime.secrets import get_secret

    tg = settings.telegram  # type: ignore[attr-defined]
    if not tg.enabled:
        raise ConfigError(
            "telegram is not configured: [telegram] chat_id is empty",
            hint="set [telegram] chat_id (or BTCN_TELEGRAM__CHAT_ID) and the bot token secret",
        )
    token = get_secret(tg.token_secret)
    assert token is not None
    return TelegramNotifier(
        client, base_url=tg.base_url, token=token.get_secret_value(), chat_id=tg.chat_id
    )
