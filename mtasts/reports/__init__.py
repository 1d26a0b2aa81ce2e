"""TLS reports (RFC 8460): read them from files, mail folders and IMAP, summarise them per
policy domain, and say when `enforce` is safe (`python -m mtasts reports`).

Modules, by concern: `model` (the report and its parser), `mail` (report mail, §5.3),
`sources` (files, directories, Maildir, mbox), `imap` (a mailbox, read-only), `summary`
(per-domain counters, de-duplicated), `verdict` (is enforce safe, what the stack should do),
`output` (text and JSON), `html` (the page), `cli` (the command).
"""
