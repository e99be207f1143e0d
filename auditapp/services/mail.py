"""Outgoing mail. Every message is recorded in the outbox and delivered by a
background job, so a slow mail server never holds up a page. With the default
"outbox" backend (development) delivery only writes the message to the log: admins
read it on the Outbox page. With "smtp" it goes to MAIL_SERVER."""

import smtplib
from email.message import EmailMessage

from flask import current_app

from ..extensions import db
from ..jobs import enqueue
from ..models import OutboxMail, utcnow


def send_mail(to: str, subject: str, body: str) -> OutboxMail:
    mail = OutboxMail(to=to, subject=subject, body=body)
    db.session.add(mail)
    db.session.flush()
    enqueue("auditapp.services.mail:deliver", mail.id)
    return mail


def deliver(mail_id: int) -> None:
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None or mail.sent_at is not None:
        return
    cfg = current_app.config
    if cfg["MAIL_BACKEND"] == "smtp":
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            cfg["MAIL_SENDER"],
            mail.to,
            mail.subject,
        )
        message.set_content(mail.body)
        with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT", 587)), timeout=30) as smtp:
            if cfg.get("MAIL_USE_TLS", True):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        current_app.logger.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
    mail.sent_at = utcnow()
