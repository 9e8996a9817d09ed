"""One module per dashboard; each exposes ``DASHBOARD`` (a :class:`~dashboards.src.spec.DashboardSpec`)."""
