// Send one message through the in-cluster relay with Jakarta Mail 2.x.
// Run:  java -cp jakarta.mail.jar:jakarta.activation.jar Send.java
// Environment: SMTP_HOST, SMTP_PORT, MAIL_FROM, MAIL_TO (defaults: the prod relay Service).
// Exits 0 when the relay accepted the message, 1 otherwise.
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.util.Properties;

public class Send {
    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    public static void main(String[] args) {
        String host = env("SMTP_HOST", "postfix-relay.email-server-prod.svc.cluster.local");
        String port = env("SMTP_PORT", "25");
        String from = env("MAIL_FROM", "noreply@bionicaisolutions.com");
        String to = env("MAIL_TO", "postmaster@bionicaisolutions.com");

        Properties props = new Properties();
        props.put("mail.smtp.host", host);
        props.put("mail.smtp.port", port);
        // Plain SMTP to the relay inside the cluster; the relay itself encrypts to Gmail.
        props.put("mail.smtp.auth", "false");
        props.put("mail.smtp.connectiontimeout", "30000");
        props.put("mail.smtp.timeout", "30000");
        // The Message-ID's domain: the sender's, not the container's host name (often "localhost").
        props.put("mail.from", from);

        try {
            MimeMessage message = new MimeMessage(Session.getInstance(props));
            message.setFrom(new InternetAddress(from));
            message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(to));
            message.setSubject("Relay test from the Java example");
            message.setText("Sent with Jakarta Mail through the postfix-relay Service.\n");
            Transport.send(message);
        } catch (MessagingException e) {
            // The relay's reply (e.g. "554 5.7.1 ...") is in the chained exceptions.
            StringBuilder reasons = new StringBuilder(String.valueOf(e.getMessage()));
            for (Exception next = e.getNextException(); next != null;
                    next = next instanceof MessagingException ? ((MessagingException) next).getNextException() : null) {
                reasons.append(": ").append(String.valueOf(next.getMessage()).trim());
            }
            System.err.println("send failed: " + reasons);
            System.exit(1);
        }
        System.out.println("accepted by " + host + ":" + port + " for " + to);
    }
}
