"""Seeds the live server's fresh database for the browser tests: two clients, an admin
and a coordinator of both clients, with the demo's sign-in addresses and password.

Run by tests/e2e/conftest.py as ``python tests/e2e/seed.py`` after ``flask db upgrade``,
with the same AUDITAPP_* environment as the server. Deliberately small (not the full
``flask demo``): the browser tests create what else they need through the UI, and a
change to an unrelated area (shoppers, waves) cannot break them.
"""

from auditapp import create_app
from auditapp.extensions import db
from auditapp.services.core import accounts
from auditapp.services.org import records as org

PASSWORD = "demo-password-2026"
CLIENTS = (("JADE", "Jade Mart 玉市"), ("EVER", "Evergreen Bank 长青银行"))
USERS = (
    ("admin@demo.auditapp.cn", "Admin 管理员", "admin"),
    ("coordinator@demo.auditapp.cn", "周敏 Zhou Min", "coordinator"),
)


def seed() -> None:
    app = create_app()
    with app.app_context():
        clients = [org.save_client(None, {"code": c, "name": n}) for c, n in CLIENTS]
        db.session.flush()
        for email, name, role in USERS:
            data = {"email": email, "name": name, "role": role, "can_export": True}
            if role == "coordinator":
                data["clients"] = clients
            user = org.save_user(None, data)
            accounts.set_password(user, PASSWORD)
        db.session.commit()


if __name__ == "__main__":
    seed()
