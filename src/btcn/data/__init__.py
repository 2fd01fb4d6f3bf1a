"""Readers for market data and signal files (the edge: files in, validated arrays out)."""
