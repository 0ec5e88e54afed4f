"""Browser tests of the dashboards in headless Chromium."""
