"""Metrics to InfluxDB, alerts to Telegram, and the alert de-duplication state machine."""
