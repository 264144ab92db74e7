"""Server-rendered pages (staff) and the PWA's static files."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from .pages import bp as pages_bp
    from .pwa import bp as pwa_bp
    from .sampling import bp as sampling_bp
    from .visits import bp as visits_bp

    app.register_blueprint(pwa_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(sampling_bp)
    from .residency import bp as residency_bp; app.register_blueprint(residency_bp)
    from .meetings import bp as meetings_bp; app.register_blueprint(meetings_bp)
    from .scores import bp as scores_web_bp; app.register_blueprint(scores_web_bp)
    from .dashboard import bp as dashboard_bp; app.register_blueprint(dashboard_bp)
