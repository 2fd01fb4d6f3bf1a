"""The backtester: holds positions between candles and calls the same decision core as ``plan``."""
