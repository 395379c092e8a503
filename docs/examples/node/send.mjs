// Send one message through the in-cluster relay with nodemailer.
// Run (in this folder, which has its own package.json):  npm install && node send.mjs
// Environment: SMTP_HOST, SMTP_PORT, MAIL_FROM, MAIL_TO (defaults: the prod relay Service).
// Exits 0 when the relay accepted the message, 1 otherwise.
import nodemailer from 'nodemailer';

const host = process.env.SMTP_HOST ?? 'postfix-relay.email-server-prod.svc.cluster.local';
const port = Number(process.env.SMTP_PORT ?? '25');
const from = process.env.MAIL_FROM ?? 'noreply@bionicaisolutions.com';
const to = process.env.MAIL_TO ?? 'postmaster@bionicaisolutions.com';

// Plain SMTP to the relay inside the cluster (no credentials: access is by NetworkPolicy and
// mynetworks); the relay itself encrypts to Gmail.
const transport = nodemailer.createTransport({
  host,
  port,
  secure: false,
  ignoreTLS: true,
  connectionTimeout: 30_000,
});

try {
  const info = await transport.sendMail({
    from,
    to,
    subject: 'Relay test from the Node.js example',
    text: 'Sent with nodemailer through the postfix-relay Service.\n',
  });
  if (info.rejected.length > 0) throw new Error(`recipients refused: ${info.rejected.join(', ')}`);
  console.log(`accepted by ${host}:${port} for ${to}: ${info.response}`);
} catch (err) {
  console.error(`send failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  transport.close();
}
