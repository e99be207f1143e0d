"""Every user-facing string has a Simplified Chinese translation, and the language a
user sees follows their browser, then their choice in the footer, which is saved."""

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from auditapp.extensions import db
from auditapp.models import User
from tests.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parents[3]
PO_FILE = ROOT / "auditapp/translations/zh_Hans/LC_MESSAGES/messages.po"
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
# %(name)s, %(n)d, %(pct).1f … — a mismatch would raise KeyError at runtime.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")

RETRY_HINT = (
    "Run: .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext "
    "-o auditapp/translations/messages.pot . && .venv/bin/pybabel update "
    "-i auditapp/translations/messages.pot -d auditapp/translations --no-fuzzy-matching, "
    "then translate the new entries in " + str(PO_FILE.relative_to(ROOT))
)


def _chinese_catalog() -> Catalog:
    with PO_FILE.open("rb") as f:
        return read_po(f, locale="zh_Hans")


def _source_messages() -> dict[tuple[str, str | None], list[str]]:
    """Every message the code asks to translate, keyed by (msgid, context), with the
    places it is used: the same extraction `pybabel extract` does with babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def _placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def test_the_source_has_messages_to_check():
    messages = _source_messages()
    assert len(messages) > 100
    assert ("Sign in", None) in messages


def test_every_ui_string_has_a_chinese_translation():
    catalog = _chinese_catalog()
    problems = []
    for (msgid, context), places in sorted(
        _source_messages().items(), key=lambda item: (item[0][0], item[0][1] or "")
    ):
        entry = catalog.get(msgid, context)
        strings = entry.string if entry else None
        if isinstance(strings, tuple | list):
            strings = strings[0] if all(strings) else ""
        if entry is None:
            problem = "missing"
        elif entry.fuzzy:
            problem = "fuzzy"
        elif not strings:
            problem = "empty"
        else:
            continue
        problems.append(f"  {problem}: {msgid!r} at {', '.join(places)}")
    assert not problems, (
        f"{len(problems)} UI strings lack a Chinese translation:\n"
        + "\n".join(problems)
        + "\n"
        + RETRY_HINT
    )


def test_translations_keep_the_placeholders_of_their_msgid():
    problems = []
    for entry in _chinese_catalog():
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple | list) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        expected = set().union(*(_placeholders(i) for i in ids))
        for translated in strings:
            if _placeholders(translated) != expected:
                problems.append(
                    f"  {entry.id!r}: expects {sorted(expected)}, "
                    f"translation has {sorted(_placeholders(translated))}"
                )
            # Jinja's gettext always %-formats, so a stray % breaks the page.
            values = dict.fromkeys(re.findall(r"%\((\w+)\)", ids[0]), 1)
            try:
                ids[0] % values
            except (ValueError, TypeError, KeyError):
                continue
            try:
                translated % values
            except (ValueError, TypeError, KeyError) as exc:
                problems.append(f"  {entry.id!r}: translation cannot be formatted ({exc})")
    assert not problems, "Placeholders differ from the msgid:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("header", "lang", "expected", "absent"),
    [
        ("zh-CN,zh;q=0.9", "zh-Hans", "忘记密码？", "Forgot your password?"),
        ("en-US", "en", "Forgot your password?", "忘记密码？"),
    ],
)
def test_login_page_follows_the_browser_language(client, header, lang, expected, absent):
    page = client.get("/login", headers={"Accept-Language": header})
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    assert expected in page.text
    assert absent not in page.text


def _switch(client, locale):
    response = client.post(
        "/language",
        data={"locale": locale, "next": "/stores/", "csrf_token": csrf_token(client)},
        headers={"Accept-Language": "en-US"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/stores/")


def test_language_switch_is_saved_on_the_profile(app, client, make_user):
    user = make_user("lang@example.com", "admin", name="Lin")
    english = {"Accept-Language": "en-US"}
    login(client, user)
    assert "Hello, Lin" in client.get("/", headers=english).text

    _switch(client, "zh_Hans")

    assert "您好，Lin" in client.get("/", headers=english).text
    stores = client.get("/stores/", headers=english).text
    assert "门店" in stores
    assert "未找到门店。" in stores
    account = client.get("/account/", headers=english).text
    assert "我的账号" in account
    assert "My account" not in account
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_Hans"

    # A new browser session, with an English browser, still gets Chinese.
    other = login(app.test_client(), user)
    assert "您好，Lin" in other.get("/", headers=english).text

    _switch(other, "en")

    assert "Hello, Lin" in other.get("/", headers=english).text
    assert "No stores found." in other.get("/stores/", headers=english).text
    assert "My account" in other.get("/account/", headers=english).text
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"


def test_signed_out_visitor_can_switch_language(client):
    token = csrf_token(client)
    client.post("/language", data={"locale": "zh_Hans", "next": "/login", "csrf_token": token})
    page = client.get("/login", headers={"Accept-Language": "en-US"})
    assert "忘记密码？" in page.text
