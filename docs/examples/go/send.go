// Send one message through the in-cluster relay with Go's standard library (net/smtp).
// Run (in this folder, which has its own go.mod):  go run .
// Environment: SMTP_HOST, SMTP_PORT, MAIL_FROM, MAIL_TO (defaults: the prod relay Service).
// Exits 0 when the relay accepted the message, 1 otherwise.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"
)

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// messageID returns a unique Message-ID in the sender's domain (RFC 5322 3.6.4). net/smtp adds
// none, and a message without one is harder to trace and scores worse with spam filters.
func messageID(from string) string {
	domain := "localhost"
	if at := strings.LastIndex(from, "@"); at >= 0 {
		domain = from[at+1:]
	}
	random := make([]byte, 12)
	if _, err := rand.Read(random); err != nil {
		panic(err)
	}
	return fmt.Sprintf("<%d.%s@%s>", time.Now().UnixNano(), hex.EncodeToString(random), domain)
}

func send(addr, from, to string, body []byte) error {
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if name, err := os.Hostname(); err == nil {
		if err := c.Hello(name); err != nil {
			return err
		}
	}
	// Plain SMTP to the relay inside the cluster; the relay itself encrypts to Gmail.
	// (smtp.SendMail would also work; the explicit steps show where each reply comes from.)
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil { // the relay's reply to the final "."
		return err
	}
	return c.Quit()
}

func main() {
	host := env("SMTP_HOST", "postfix-relay.email-server-prod.svc.cluster.local")
	port := env("SMTP_PORT", "25")
	from := env("MAIL_FROM", "noreply@bionicaisolutions.com")
	to := env("MAIL_TO", "postmaster@bionicaisolutions.com")

	body := strings.Join([]string{
		"From: " + from,
		"To: " + to,
		"Subject: Relay test from the Go example",
		"Date: " + time.Now().Format(time.RFC1123Z),
		"Message-ID: " + messageID(from),
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"Sent with net/smtp through the postfix-relay Service.",
		"",
	}, "\r\n")

	addr := net.JoinHostPort(host, port)
	if err := send(addr, from, to, []byte(body)); err != nil {
		fmt.Fprintf(os.Stderr, "send failed: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("accepted by %s for %s\n", addr, to)
}
