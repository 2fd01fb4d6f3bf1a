"""``btcn report``: the run folder's reports and the daily digest (Markdown, JSON, Telegram)."""
