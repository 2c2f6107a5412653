"""The aiohttp web server: /health, /status, /metrics."""
