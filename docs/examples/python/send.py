#!/usr/bin/env python3
"""Send one message through the in-cluster relay (Python standard library only).

Environment: SMTP_HOST, SMTP_PORT, MAIL_FROM, MAIL_TO (defaults: the prod relay Service).
Exits 0 when the relay accepted the message, 1 otherwise.
"""
import os
import smtplib
import sys
from email.message import EmailMessage
from email.utils import make_msgid

host = os.environ.get("SMTP_HOST", "postfix-relay.email-server-prod.svc.cluster.local")
port = int(os.environ.get("SMTP_PORT", "25"))
sender = os.environ.get("MAIL_FROM", "noreply@bionicaisolutions.com")
recipient = os.environ.get("MAIL_TO", "postmaster@bionicaisolutions.com")

msg = EmailMessage()
msg["From"] = sender
msg["To"] = recipient
msg["Subject"] = "Relay test from the Python example"
msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
msg.set_content("Sent with smtplib through the postfix-relay Service.\n")

try:
    # Plain SMTP to the relay inside the cluster; the relay itself encrypts to Gmail.
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        refused = smtp.send_message(msg)
except (smtplib.SMTPException, OSError) as err:
    print(f"send failed: {err}", file=sys.stderr)
    sys.exit(1)

if refused:
    print(f"recipients refused: {refused}", file=sys.stderr)
    sys.exit(1)
print(f"accepted by {host}:{port} for {recipient}")
