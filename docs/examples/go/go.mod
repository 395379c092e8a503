module example.com/email-server-example

go 1.19
