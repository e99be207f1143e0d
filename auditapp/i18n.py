"""Language choice: the user's saved preference, else the browser's, else English."""

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_datetime, get_locale
from flask_login import current_user

from forms.choices import ROLE_CHOICES, WEEKDAY_CHOICES, label

from .config import LANGUAGES
from .extensions import babel

# Browsers say "zh-CN", "zh-Hans" or "zh"; all of them mean our Simplified Chinese.
_BROWSER_TAGS = {"en": "en", "zh": "zh_Hans", "zh-hans": "zh_Hans", "zh-cn": "zh_Hans"}


def select_locale() -> str:
    if not has_request_context():  # command line, background jobs
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(list(_BROWSER_TAGS))
    return _BROWSER_TAGS.get(best or "en", "en")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    init_filters(app)

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"LANGUAGES": LANGUAGES, "current_locale": str(get_locale() or "en")}


def init_filters(app: Flask) -> None:

    app.add_template_filter(
        lambda value: format_datetime(value, "short") if value else "", "datetime"
    )
    app.add_template_global(label, "label")
    app.add_template_global(lambda role: label("role", role), "role_label")
    app.add_template_global(lambda: ROLE_CHOICES, "role_choices")
    app.add_template_global(lambda: WEEKDAY_CHOICES, "weekdays")
    # The current query string minus the page number, for pagers and export links.
    app.add_template_global(
        lambda: {k: v for k, v in request.args.items() if k != "page"}, "filter_args"
    )
